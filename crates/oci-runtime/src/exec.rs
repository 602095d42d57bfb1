//! `exec`: one more process in a running container, as `podman exec`
//! and `kubectl exec` ask for it.
//!
//! ```text
//! runtime ── fork ──► joins the container's cgroup, then its namespaces
//!                     (user first, mount last: see chapter 6's join order)
//!                        └─ fork ──► in the PID namespace too: cwd,
//!                                    terminal, limits, user, privileges,
//!                                    execve
//! ```
//!
//! Without `--detach` the runtime waits for the process (it becomes our
//! child: we are its subreaper) and exits with its code.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use nix::sched::{setns, CloneFlags};
use nix::sys::wait::waitpid;
use nix::unistd::{chdir, execve, fork, getpid, ForkResult, Pid};
use oci_spec::runtime::Process;

use crate::bundle::{self, BundleError};
use crate::lifecycle::Status;
use crate::state::Record;
use crate::sync::Channel;
use crate::RuntimeError;

/// `exec`'s arguments.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// `--root`.
    pub root: PathBuf,
    /// The container.
    pub id: String,
    /// `--process`: a JSON file with the process (as config.json's).
    pub process: Option<PathBuf>,
    /// The command, when there is no `--process`.
    pub args: Vec<String>,
    /// `--env`, added to the config's.
    pub env: Vec<String>,
    /// `--cwd`.
    pub cwd: Option<PathBuf>,
    /// `--user UID[:GID]`.
    pub user: Option<String>,
    /// `--tty`.
    pub tty: bool,
    /// `--console-socket`.
    pub console_socket: Option<PathBuf>,
    /// `--detach`: do not wait.
    pub detach: bool,
    /// `--pid-file`.
    pub pid_file: Option<PathBuf>,
    /// `--preserve-fds`.
    pub preserve_fds: i32,
}

/// The namespace kinds `exec` may join, in the order to join them: user
/// first, mount last.
const KINDS: [(&str, CloneFlags); 8] = [
    ("user", CloneFlags::CLONE_NEWUSER),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("net", CloneFlags::CLONE_NEWNET),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("time", CloneFlags::from_bits_retain(libc::CLONE_NEWTIME)),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

/// The process to run: `--process`, or the container's own process with
/// the command line's changes.
fn process_for(options: &ExecOptions, record: &Record) -> Result<Process, RuntimeError> {
    let mut process = match &options.process {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| RuntimeError::io(path, e))?;
            let deserializer = &mut serde_json::Deserializer::from_str(&text);
            serde_path_to_error::deserialize(deserializer).map_err(|e| BundleError::Malformed {
                field: format!("--process {}: {}", path.display(), e.path()),
                message: e.into_inner().to_string(),
            })?
        }
        None => {
            if options.args.is_empty() {
                return Err(RuntimeError::Unsupported(
                    "exec needs a command, or --process FILE".into(),
                ));
            }
            let base = bundle::load(&record.bundle)
                .map(|b| b.process().clone())
                .unwrap_or_default();
            let mut process = base;
            process.set_args(Some(options.args.clone()));
            process
        }
    };
    if !options.env.is_empty() {
        let mut env = process.env().clone().unwrap_or_default();
        env.extend(options.env.iter().cloned());
        process.set_env(Some(env));
    }
    if let Some(cwd) = &options.cwd {
        process.set_cwd(cwd.clone());
    }
    if options.tty {
        process.set_terminal(Some(true));
    }
    if let Some(user) = &options.user {
        let (uid, gid) = user.split_once(':').unwrap_or((user, "0"));
        let parse = |s: &str| {
            s.parse::<u32>().map_err(|_| {
                RuntimeError::Unsupported(format!(
                    "--user {user:?}: use UID or UID:GID, in numbers"
                ))
            })
        };
        let mut who = process.user().clone();
        who.set_uid(parse(uid)?);
        who.set_gid(parse(gid)?);
        process.set_user(who);
    }
    bundle::check_process(&process)?;
    Ok(process)
}

// ANCHOR: exec
/// Run a process in the container; its exit code (0 with `--detach`).
pub fn exec(options: &ExecOptions) -> Result<i32, RuntimeError> {
    let record = Record::load(&options.root, &options.id)?;
    if record.status(&options.root) == Status::Stopped {
        return Err(RuntimeError::Refused {
            id: record.id.clone(),
            refusal: crate::lifecycle::Refusal::NotRunning,
        });
    }
    let process = process_for(options, &record)?;
    let terminal = process.terminal().unwrap_or(false);
    if terminal && options.console_socket.is_none() {
        return Err(RuntimeError::Unsupported(
            "a terminal needs --console-socket to send it to".into(),
        ));
    }
    // The container's seccomp profile applies to its every process.
    let seccomp = match bundle::load(&record.bundle)
        .ok()
        .and_then(|b| b.spec.linux().as_ref().and_then(|l| l.seccomp().clone()))
    {
        Some(seccomp) => Some(
            crate::process::compile_seccomp(&seccomp, &process).map_err(RuntimeError::Container)?,
        ),
        None => None,
    };
    let pid = record.pid();
    // Open every namespace that is not ours before joining any.
    let mut namespaces = Vec::new();
    for (name, flag) in KINDS {
        let theirs = PathBuf::from(format!("/proc/{pid}/ns/{name}"));
        let ours = PathBuf::from(format!("/proc/self/ns/{name}"));
        let same = match (std::fs::metadata(&theirs), std::fs::metadata(&ours)) {
            (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
            _ => true,
        };
        if !same {
            let file = File::open(&theirs).map_err(|e| RuntimeError::io(&theirs, e))?;
            namespaces.push((name, flag, file));
        }
    }
    let console = match &options.console_socket {
        Some(path) if terminal => Some(OwnedFd::from(
            UnixStream::connect(path).map_err(|e| RuntimeError::io(path, e))?,
        )),
        _ => None,
    };
    let signals = cratebox_sandbox::supervise::forwarded_signals();
    if !options.detach {
        // The process will be our grandchild; make it our child when its
        // parent exits, so that we can wait for it.
        // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) takes an integer.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        cratebox_sandbox::supervise::block(&signals)
            .map_err(|e| RuntimeError::sys("sigprocmask", e))?;
    }
    let (ours, theirs) = Channel::pair().map_err(|e| RuntimeError::sys("socketpair", e))?;
    // SAFETY: the runtime is single-threaded.
    let joiner = match unsafe { fork() }.map_err(|e| RuntimeError::sys("fork", e))? {
        ForkResult::Child => {
            drop(ours);
            let result = join(
                &record,
                &namespaces,
                &process,
                seccomp.as_ref(),
                console,
                options.preserve_fds,
                &theirs,
            );
            if let Err(message) = result {
                theirs.error(&message);
            }
            // SAFETY: _exit skips the parent's atexit handlers.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => child,
    };
    drop(theirs);
    let started = match ours.recv() {
        Some(message) if message.starts_with("pid ") => message[4..]
            .parse::<i32>()
            .map(Pid::from_raw)
            .map_err(|_| RuntimeError::Container(format!("a bad message {message:?}"))),
        Some(message) => Err(RuntimeError::Container(
            message
                .strip_prefix("error ")
                .unwrap_or(&message)
                .to_string(),
        )),
        None => Err(RuntimeError::Container(
            "the exec'd process ended before it started".into(),
        )),
    };
    let _ = waitpid(joiner, None);
    let child = started?;
    // The channel closes on execve; a message first means it failed.
    if let Some(message) = ours.recv() {
        return Err(RuntimeError::Container(
            message
                .strip_prefix("error ")
                .unwrap_or(&message)
                .to_string(),
        ));
    }
    if let Some(pid_file) = &options.pid_file {
        crate::create::write_pid_file(pid_file, child)?;
    }
    if options.detach {
        return Ok(0);
    }
    cratebox_sandbox::supervise::supervise(child, &signals)
        .map_err(|e| RuntimeError::sys("wait", e))
}
// ANCHOR_END: exec

/// In the first child: join the cgroup and the namespaces, fork the
/// process itself, report its pid.
fn join(
    record: &Record,
    namespaces: &[(&str, CloneFlags, File)],
    process: &Process,
    seccomp: Option<&cratebox_seccomp::Filter>,
    console: Option<OwnedFd>,
    preserve_fds: i32,
    channel: &Channel,
) -> Result<(), String> {
    // The cgroup first: its files are the host's, hidden once the mount
    // namespace is joined.
    record
        .cgroup
        .add(getpid())
        .map_err(|e| format!("joining the cgroup: {e}"))?;
    for (name, flag, file) in namespaces {
        setns(file.as_fd(), *flag).map_err(|e| format!("joining the {name} namespace: {e}"))?;
    }
    // SAFETY: single-threaded.
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Parent { child } => channel
            .send(&format!("pid {child}"))
            .map_err(|e| e.to_string()),
        ForkResult::Child => {
            let error = run(process, seccomp, console, preserve_fds);
            channel.error(&error);
            // SAFETY: _exit skips the parent's atexit handlers.
            unsafe { libc::_exit(127) }
        }
    }
}

/// In the process itself: become what `process` says, then execve.
/// Returns only on failure.
fn run(
    process: &Process,
    seccomp: Option<&cratebox_seccomp::Filter>,
    console: Option<OwnedFd>,
    preserve_fds: i32,
) -> String {
    let step = || -> Result<std::convert::Infallible, String> {
        chdir(process.cwd())
            .map_err(|e| format!("process.cwd {}: {e}", process.cwd().display()))?;
        if let Some(console) = &console {
            crate::console::terminal(
                std::os::fd::AsRawFd::as_raw_fd(console),
                process.console_size().as_ref(),
                false,
            )?;
        } else {
            let _ = nix::unistd::setsid();
        }
        drop(console);
        let (path, argv, envp) = crate::process::command_line(process)?;
        crate::container::keep_only_preserved(preserve_fds)?;
        crate::process::set_rlimits(process)?;
        crate::process::become_process(process, seccomp)?;
        let _ = cratebox_sandbox::supervise::unblock_all();
        execve(&path, &argv, &envp).map_err(|e| format!("process.args[0] {path:?}: execve: {e}"))
    };
    match step() {
        Err(e) => e,
        Ok(never) => match never {},
    }
}
