//! Chapter 6: `exec`, a command in a running container.
//!
//! The namespaces are joined by [`cratebox_sandbox::join`]; what this
//! file adds is what only the engine knows: which process is the
//! container's init, which cgroups it is in, and the environment, working
//! directory and user the container runs with.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use cratebox_cgroups::Hierarchies;
use std::os::fd::AsFd;

use cratebox_sandbox::join::{exec_in, ExecStdio, JoinError};
use cratebox_sandbox::terminal::{open_pty, RawMode};
use cratebox_sandbox::ContainerCommand;
use nix::unistd::Pid;

use crate::containers::Record;
use crate::engine::Engine;
use crate::error::EngineError;

/// What `exec` runs, and how.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    /// The command and its arguments.
    pub command: Vec<String>,
    /// `-e`: over the container's environment.
    pub env: Vec<String>,
    /// `-w`: instead of the container's working directory.
    pub working_dir: Option<String>,
    /// `-u`: instead of the container's user.
    pub user: Option<String>,
    /// `-d`: do not wait for it.
    pub detach: bool,
    /// `-i`: our stdin is its stdin (else /dev/null).
    pub interactive: bool,
    /// `-t`: a terminal of its own, relayed to ours.
    pub tty: bool,
}

impl Engine {
    // ANCHOR: exec
    /// `exec CONTAINER COMMAND`: run a command inside a running container,
    /// with its environment, working directory and user unless the request
    /// says otherwise; the command's exit code.
    pub fn exec(&self, record: &Record, request: &ExecRequest) -> Result<i32, EngineError> {
        let not_running = || EngineError::NotRunning {
            container: record.name.clone(),
        };
        let init = match (&record.state.init, record.is_running()) {
            (Some(init), true) if init.is_alive() => init.clone(),
            _ => return Err(not_running()),
        };
        let pid = Pid::from_raw(i32::try_from(init.pid).map_err(|_| not_running())?);
        let spec = record.spec.clone().unwrap_or_default();
        let mut command = ContainerCommand::new(request.command.clone());
        let env = crate::lifecycle::merge_env(&spec.env, &request.env);
        for pair in &env {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            command.set_env(name, value);
        }
        command.cwd = request.working_dir.clone().or(spec.working_dir);
        command.tty = request.tty;
        command.user = request.user.clone().or(spec.user);
        // The same limits as the container's own command.
        command.security = spec.security.process()?;
        let procs = cgroup_procs(init.pid)?;
        // Without -i, stdin is empty; detached, nothing is ours: the
        // command outlives us and must not hold our output open. With -t,
        // the terminal's slave end is all three.
        let null = File::open("/dev/null").map_err(|source| EngineError::Io {
            what: "open",
            path: "/dev/null".into(),
            source,
        })?;
        let null_fd = std::os::fd::AsRawFd::as_raw_fd(&null);
        let pty =
            match request.tty && !request.detach {
                true => Some(open_pty(Some(std::io::stdin().as_fd())).map_err(|errno| {
                    EngineError::Io {
                        what: "open",
                        path: "a pseudo-terminal".into(),
                        source: errno.into(),
                    }
                })?),
                false => None,
            };
        let fds = match (&pty, request.detach, request.interactive) {
            (Some(pty), _, _) => Some([std::os::fd::AsRawFd::as_raw_fd(&pty.slave); 3]),
            (None, true, _) => Some([null_fd; 3]),
            (None, false, false) => Some([null_fd, 1, 2]),
            (None, false, true) => None,
        };
        let stdio = ExecStdio {
            fds,
            terminal: pty.is_some(),
        };
        let _raw = pty.as_ref().and_then(|_| RawMode::enter());
        let master = pty.as_ref().map(|pty| &pty.master);
        exec_in(pid, &command, procs, stdio, request.detach, master).map_err(|error| match error {
            JoinError::Open { .. } if !init.is_alive() => not_running(),
            other => EngineError::Exec(other),
        })
    }
    // ANCHOR_END: exec
}

// ANCHOR: cgroup_procs
// ANCHOR: cgroup_procs_open
/// The `cgroup.procs` files of the cgroups process `pid` is in, open for
/// writing: one per v1 hierarchy, or the one v2 directory.
pub fn cgroup_procs(pid: u32) -> Result<Vec<File>, EngineError> {
    let mut files = Vec::new();
    for dir in cgroup_dirs(pid)?.into_values() {
        let file = dir.join("cgroup.procs");
        let opened = OpenOptions::new()
            .write(true)
            .open(&file)
            .map_err(|source| EngineError::Io {
                what: "open",
                path: file.clone(),
                source,
            })?;
        files.push(opened);
    }
    Ok(files)
}
// ANCHOR_END: cgroup_procs_open

/// The directories of cratebox's cgroups that process `pid` is in, by
/// controller list (`""` for v2). Read from the host, `/proc/PID/cgroup`
/// gives each path from its hierarchy's root: `ID:CONTROLLERS:PATH`.
pub fn cgroup_dirs(pid: u32) -> Result<BTreeMap<String, PathBuf>, EngineError> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).map_err(|source| {
        EngineError::Io {
            what: "read",
            path: format!("/proc/{pid}/cgroup").into(),
            source,
        }
    })?;
    let hierarchies = Hierarchies::detect();
    let mut dirs = BTreeMap::new();
    for line in text.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if !path.starts_with(&format!("/{}/", cratebox_cgroups::PARENT)) {
            continue;
        }
        let mount: Option<PathBuf> = match controllers {
            "" => hierarchies.v2.as_ref().map(|v2| v2.path.clone()),
            list => list
                .split(',')
                .find_map(|controller| hierarchies.v1.get(controller).cloned()),
        };
        if let Some(mount) = mount {
            dirs.insert(
                controllers.to_string(),
                mount.join(path.trim_start_matches('/')),
            );
        }
    }
    Ok(dirs)
}
// ANCHOR_END: cgroup_procs

/// One process of a container, as `top` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Its pid on the host.
    pub pid: u32,
    /// Its parent's pid on the host.
    pub ppid: u32,
    /// Its user id on the host.
    pub uid: u32,
    /// Its command line.
    pub args: String,
}

// ANCHOR: processes
/// Every process of a running container: those in the PID namespace of
/// its init (which is what "in the container" means for a process; a
/// cgroup could also hold an `exec` still on its way in).
pub fn processes(init: u32) -> Vec<Process> {
    let namespace = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
    let Some(theirs) = namespace(&init.to_string()) else {
        return Vec::new();
    };
    let mut found: Vec<Process> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid: u32 = name.parse().ok()?;
            if namespace(&name)? != theirs {
                return None;
            }
            let status = std::fs::read_to_string(entry.path().join("status")).ok()?;
            let field = |key: &str| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(key))
                    .and_then(|v| v.split_whitespace().next())
                    .and_then(|v| v.parse().ok())
            };
            let args = std::fs::read(entry.path().join("cmdline")).ok()?;
            let args = String::from_utf8_lossy(&args)
                .trim_end_matches('\0')
                .replace('\0', " ");
            Some(Process {
                pid,
                ppid: field("PPid:")?,
                uid: field("Uid:")?,
                args,
            })
        })
        .collect();
    found.sort_by_key(|p| p.pid);
    found
}
// ANCHOR_END: processes

/// What a running container uses now, read from its cgroups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Memory in use, bytes.
    pub memory: Option<u64>,
    /// Its memory limit, bytes (None: no limit).
    pub memory_limit: Option<u64>,
    /// CPU time used so far, nanoseconds.
    pub cpu_ns: Option<u64>,
    /// Processes now.
    pub pids: Option<u64>,
}

/// [`Usage`] of the container whose init is `init`, from v2's one
/// directory or v1's memory, cpuacct and pids hierarchies.
pub fn usage(init: u32) -> Result<Usage, EngineError> {
    let dirs = cgroup_dirs(init)?;
    let number = |dir: &PathBuf, file: &str| -> Option<u64> {
        std::fs::read_to_string(dir.join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    let key = |dir: &PathBuf, file: &str, key: &str| -> Option<u64> {
        std::fs::read_to_string(dir.join(file))
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
    };
    // The v1 hierarchy whose controller list names `controller`.
    let v1 = |controller: &str| {
        dirs.iter()
            .find(|(list, _)| list.split(',').any(|c| c == controller))
            .map(|(_, dir)| dir)
    };
    let mut usage = Usage::default();
    if let Some(dir) = dirs.get("") {
        usage.memory = number(dir, "memory.current");
        usage.memory_limit = number(dir, "memory.max");
        usage.cpu_ns = key(dir, "cpu.stat", "usage_usec ").map(|us| us * 1000);
        usage.pids = number(dir, "pids.current");
    }
    if let Some(dir) = v1("memory") {
        usage.memory = number(dir, "memory.usage_in_bytes");
        // v1 says "no limit" with a huge number.
        usage.memory_limit = number(dir, "memory.limit_in_bytes").filter(|&l| l < 1 << 60);
    }
    if let Some(dir) = v1("cpuacct") {
        usage.cpu_ns = number(dir, "cpuacct.usage");
    }
    if let Some(dir) = v1("pids") {
        usage.pids = number(dir, "pids.current");
    }
    Ok(usage)
}
