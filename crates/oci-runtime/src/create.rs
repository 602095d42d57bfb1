//! `create`: the runtime's side. It checks the bundle, makes the state
//! directory, the start fifo and the cgroup, forks the container's side
//! ([`crate::container`]), answers it over the sync channel, runs the
//! `prestart` and `createRuntime` hooks, and when the container's process
//! waits for `start`, writes the record and the pid file and exits. If
//! anything fails, everything made so far is taken down again.

use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use cratebox_sandbox::process::ProcessStamp;
use nix::fcntl::{open, OFlag};
use nix::sched::CloneFlags;
use nix::sys::signal::{kill, Signal};
use nix::sys::stat::Mode;
use nix::sys::wait::waitpid;
use nix::unistd::{fork, mkfifo, ForkResult, Pid};
use oci_spec::runtime::LinuxIdMapping;

use crate::bundle::{self, Bundle, BundleError};
use crate::cgroup::ContainerCgroup;
use crate::container::{self, Setup};
use crate::lifecycle::Status;
use crate::state::{self, Record, FIFO};
use crate::sync::Channel;
use crate::RuntimeError;

/// `create`'s arguments.
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// `--root`: where container records live.
    pub root: PathBuf,
    /// The new container's id.
    pub id: String,
    /// `--bundle`.
    pub bundle: PathBuf,
    /// `--pid-file`: where to write the container's pid.
    pub pid_file: Option<PathBuf>,
    /// `--console-socket`: where to send the terminal's master.
    pub console_socket: Option<PathBuf>,
    /// `--preserve-fds`: descriptors after stdio to pass on.
    pub preserve_fds: i32,
}

/// What to undo if `create` fails part way.
struct Undo {
    dir: PathBuf,
    cgroup: Option<ContainerCgroup>,
    pid: Option<Pid>,
    armed: bool,
}

impl Drop for Undo {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(pid) = self.pid {
            let _ = kill(pid, Signal::SIGKILL);
        }
        if let Some(cgroup) = &self.cgroup {
            cgroup.remove();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

// ANCHOR: create
/// Create the container `options.id` from its bundle.
pub fn create(options: &CreateOptions) -> Result<(), RuntimeError> {
    state::check_id(&options.id)?;
    let bundle = bundle::load(&options.bundle)?;
    let process = bundle.process();
    let terminal = process.terminal().unwrap_or(false);
    match (terminal, &options.console_socket) {
        (true, None) => {
            return Err(BundleError::Invalid {
                field: "process.terminal".into(),
                message: "true, but no --console-socket was given to send the terminal to".into(),
            }
            .into())
        }
        (false, Some(_)) => {
            return Err(RuntimeError::Unsupported(
                "--console-socket is for a container with a terminal: set process.terminal to true, or leave the socket out".into(),
            ))
        }
        _ => {}
    }
    let linux = bundle
        .spec
        .linux()
        .as_ref()
        .expect("checked by bundle::load");
    let seccomp = match linux.seccomp() {
        Some(seccomp) => Some(
            crate::process::compile_seccomp(seccomp, process).map_err(RuntimeError::Container)?,
        ),
        None => None,
    };

    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&options.root)
        .map_err(|e| RuntimeError::io(&options.root, e))?;
    let dir = Record::dir(&options.root, &options.id);
    match fs::DirBuilder::new().mode(0o711).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(RuntimeError::Exists(options.id.clone()))
        }
        Err(e) => return Err(RuntimeError::io(&dir, e)),
    }
    let mut undo = Undo {
        dir: dir.clone(),
        cgroup: None,
        pid: None,
        armed: true,
    };
    let fifo_path = dir.join(FIFO);
    mkfifo(&fifo_path, Mode::from_bits_truncate(0o622))
        .map_err(|e| RuntimeError::sys(format!("mkfifo {}", fifo_path.display()), e))?;
    // Read-write, so that opening it does not wait for a writer: the
    // container's process reads from it, `start` writes.
    let fifo = open(&fifo_path, OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(|e| RuntimeError::sys(format!("open {}", fifo_path.display()), e))?;
    // SAFETY: `open` just returned this descriptor, owned by nothing else.
    let fifo = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fifo) };

    let cgroups_path = linux
        .cgroups_path()
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("/cratebox-runtime-{}", options.id)));
    // The nodes the runtime makes stay usable whatever the device rules
    // say (runc adds the same rules): the default ones and linux.devices.
    let mut nodes = crate::devices::default_nodes();
    nodes.extend(linux.devices().iter().flatten().map(crate::devices::node));
    let cgroup = ContainerCgroup::create(&cgroups_path, linux.resources().as_ref(), &nodes)
        .map_err(|e| {
            RuntimeError::Cgroup(if e.starts_with("linux.") {
                format!("config.json: {e}")
            } else {
                format!("linux.cgroupsPath {}: {e}", cgroups_path.display())
            })
        })?;
    undo.cgroup = Some(cgroup.clone());

    let console = match &options.console_socket {
        Some(path) => Some(OwnedFd::from(
            UnixStream::connect(path).map_err(|e| RuntimeError::io(path, e))?,
        )),
        None => None,
    };
    let setup = Setup {
        bundle: &bundle,
        cgroup: &cgroup,
        fifo,
        console,
        seccomp,
        preserve_fds: options.preserve_fds,
    };
    let (ours, theirs) = Channel::pair().map_err(|e| RuntimeError::sys("socketpair", e))?;
    // SAFETY: the runtime is single-threaded, so the child may do
    // anything after fork.
    let stage_one = match unsafe { fork() }.map_err(|e| RuntimeError::sys("fork", e))? {
        ForkResult::Child => {
            drop(ours);
            container::stage_one(&setup, theirs)
        }
        ForkResult::Parent { child } => child,
    };
    drop(theirs);
    drop(setup);
    let outcome = talk(&ours, stage_one, &bundle, &cgroup, options, &mut undo);
    let _ = waitpid(stage_one, None);
    let pid = outcome?;

    let process = ProcessStamp::of(pid.as_raw() as u32).ok_or_else(|| {
        RuntimeError::Container("the container's process ended during create".into())
    })?;
    let record = Record {
        id: options.id.clone(),
        process,
        bundle: bundle.dir.clone(),
        annotations: bundle.annotations(),
        created: humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string(),
        cgroup,
        hooks: bundle.spec.hooks().clone(),
        own_pid_namespace: bundle.namespaces.has(CloneFlags::CLONE_NEWPID),
        has_process: bundle.has_process,
    };
    record.save(&options.root)?;
    if let Some(pid_file) = &options.pid_file {
        write_pid_file(pid_file, pid)?;
    }
    undo.armed = false;
    Ok(())
}
// ANCHOR_END: create

// ANCHOR: talk
/// The runtime's half of the conversation in [`crate::sync`]; the
/// container's process's pid when it reports `created`.
fn talk(
    channel: &Channel,
    stage_one: Pid,
    bundle: &Bundle,
    cgroup: &ContainerCgroup,
    options: &CreateOptions,
    undo: &mut Undo,
) -> Result<Pid, RuntimeError> {
    let failed = |message: String| RuntimeError::Container(message);
    cgroup
        .add(stage_one)
        .map_err(|e| failed(format!("linux.cgroupsPath: {e}")))?;
    if let Some(adj) = bundle.process().oom_score_adj() {
        fs::write(format!("/proc/{stage_one}/oom_score_adj"), adj.to_string())
            .map_err(|e| failed(format!("process.oomScoreAdj {adj}: {e}")))?;
    }
    channel
        .send("go")
        .map_err(|e| RuntimeError::sys("send", e))?;
    let mut pid = None;
    // Stage one sends the pid, the container's process "hooks": two
    // processes, so the second may overtake the first. Then it waits.
    let mut hooks_waiting = false;
    loop {
        let message = match channel.recv() {
            Some(message) if message == "hooks" && pid.is_none() => {
                hooks_waiting = true;
                continue;
            }
            Some(message) if message.starts_with("pid ") && hooks_waiting => {
                // Handle the pid, then the hooks it held up.
                handle_pid(&message, &mut pid, undo)?;
                "hooks".to_string()
            }
            Some(message) => message,
            None => return Err(failed("the container's process ended during create".into())),
        };
        let (word, rest) = message.split_once(' ').unwrap_or((&message, ""));
        match word {
            "userns" => {
                let linux = bundle.spec.linux().as_ref().expect("checked");
                write_map(
                    stage_one,
                    "uid_map",
                    linux.uid_mappings().as_deref().unwrap_or_default(),
                )
                .and_then(|()| {
                    write_map(
                        stage_one,
                        "gid_map",
                        linux.gid_mappings().as_deref().unwrap_or_default(),
                    )
                })
                .inspect_err(|e| channel.error(e))
                .map_err(failed)?;
                channel
                    .send("mapped")
                    .map_err(|e| RuntimeError::sys("send", e))?;
            }
            "pid" => handle_pid(&message, &mut pid, undo)?,
            "hooks" => {
                let pid = pid.ok_or_else(|| failed("hooks before the pid".into()))?;
                let state = oci_state(options, bundle, pid, Status::Creating);
                let result = bundle.spec.hooks().as_ref().map_or(Ok(()), |hooks| {
                    crate::hooks::run(
                        "prestart",
                        hooks.prestart().as_deref().unwrap_or_default(),
                        &state,
                    )
                    .and_then(|()| {
                        crate::hooks::run(
                            "createRuntime",
                            hooks.create_runtime().as_deref().unwrap_or_default(),
                            &state,
                        )
                    })
                });
                if let Err(error) = result {
                    channel.error(&error.to_string());
                    return Err(error.into());
                }
                channel
                    .send(&format!("hooked {state}"))
                    .map_err(|e| RuntimeError::sys("send", e))?;
            }
            "created" => return pid.ok_or_else(|| failed("created before the pid".into())),
            "error" => return Err(failed(rest.to_string())),
            _ => return Err(failed(format!("an unexpected message {message:?}"))),
        }
    }
}
// ANCHOR_END: talk

/// "pid N": the container's process, as the host numbers it.
fn handle_pid(message: &str, pid: &mut Option<Pid>, undo: &mut Undo) -> Result<(), RuntimeError> {
    let number: i32 = message
        .strip_prefix("pid ")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| RuntimeError::Container(format!("a bad pid message {message:?}")))?;
    *pid = Some(Pid::from_raw(number));
    undo.pid = *pid;
    Ok(())
}

/// The spec's state as JSON, for hooks.
pub fn oci_state(options: &CreateOptions, bundle: &Bundle, pid: Pid, status: Status) -> String {
    let state = state::OciState {
        oci_version: crate::OCI_VERSION.to_string(),
        id: options.id.clone(),
        status,
        pid: pid.as_raw(),
        bundle: bundle.dir.clone(),
        annotations: bundle.annotations(),
        created: None,
    };
    serde_json::to_string(&state).expect("a state serializes")
}

/// Write one id map of a new user namespace.
fn write_map(pid: Pid, file: &str, map: &[LinuxIdMapping]) -> Result<(), String> {
    let text: String = map
        .iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect();
    let field = if file == "uid_map" {
        "linux.uidMappings"
    } else {
        "linux.gidMappings"
    };
    fs::write(format!("/proc/{pid}/{file}"), &text)
        .map_err(|e| format!("{field}: {}: {e}", text.trim().replace('\n', ", ")))
}

/// Write the pid file whole or not at all.
pub fn write_pid_file(path: &Path, pid: Pid) -> Result<(), RuntimeError> {
    let temporary = path.with_extension("cratebox-tmp");
    fs::write(&temporary, pid.to_string()).map_err(|e| RuntimeError::io(&temporary, e))?;
    fs::rename(&temporary, path).map_err(|e| RuntimeError::io(path, e))
}
