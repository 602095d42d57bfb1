//! Chapter 6: `exec`, a command in a running container.
//!
//! The namespaces are joined by [`cratebox_sandbox::join`]; what this
//! file adds is what only the engine knows: which process is the
//! container's init, which cgroups it is in, and the environment, working
//! directory and user the container runs with.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use cratebox_cgroups::Hierarchies;
use cratebox_sandbox::join::{exec_in, ExecStdio, JoinError};
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
        command.user = request.user.clone().or(spec.user);
        let procs = cgroup_procs(init.pid)?;
        // Without -i, stdin is empty; detached, nothing is ours: the
        // command outlives us and must not hold our output open.
        let null = File::open("/dev/null").map_err(|source| EngineError::Io {
            what: "open",
            path: "/dev/null".into(),
            source,
        })?;
        let null_fd = std::os::fd::AsRawFd::as_raw_fd(&null);
        let fds = match (request.detach, request.interactive) {
            (true, _) => Some([null_fd; 3]),
            (false, false) => Some([null_fd, 1, 2]),
            (false, true) => None,
        };
        let stdio = ExecStdio {
            fds,
            terminal: false,
        };
        exec_in(pid, &command, procs, stdio, request.detach).map_err(|error| match error {
            JoinError::Open { .. } if !init.is_alive() => not_running(),
            other => EngineError::Exec(other),
        })
    }
    // ANCHOR_END: exec
}

// ANCHOR: cgroup_procs
/// The `cgroup.procs` files of the cgroups process `pid` is in, open for
/// writing: one per v1 hierarchy, or the one v2 directory. Read from the
/// host, `/proc/PID/cgroup` gives each path from the hierarchy's root.
/// Only cratebox's own cgroups are joined.
pub fn cgroup_procs(pid: u32) -> Result<Vec<File>, EngineError> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).map_err(|source| {
        EngineError::Io {
            what: "read",
            path: format!("/proc/{pid}/cgroup").into(),
            source,
        }
    })?;
    let hierarchies = Hierarchies::detect();
    let mut files = Vec::new();
    let mut seen = Vec::new();
    for line in text.lines() {
        // "ID:CONTROLLERS:PATH"; v2's line is "0::PATH".
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
        let Some(mount) = mount else { continue };
        let file = mount
            .join(path.trim_start_matches('/'))
            .join("cgroup.procs");
        if seen.contains(&file) {
            continue;
        }
        let opened = OpenOptions::new()
            .write(true)
            .open(&file)
            .map_err(|source| EngineError::Io {
                what: "open",
                path: file.clone(),
                source,
            })?;
        seen.push(file);
        files.push(opened);
    }
    Ok(files)
}
// ANCHOR_END: cgroup_procs
