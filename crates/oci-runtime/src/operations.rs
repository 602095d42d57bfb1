//! `start`, `state`, `kill`, `delete` and `ps`: each reads the record
//! `create` left, asks [`transition`] whether the operation fits the
//! container's status, and does it.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use std::os::fd::AsFd;

use nix::fcntl::{open, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill as send_signal, Signal};
use nix::sys::stat::Mode;
use nix::unistd::write;

use crate::lifecycle::{transition, Operation, Status};
use crate::state::{Record, FIFO};
use crate::RuntimeError;

fn allowed(record: &Record, status: Status, op: Operation) -> Result<(), RuntimeError> {
    transition(status, op)
        .map(|_| ())
        .map_err(|refusal| RuntimeError::Refused {
            id: record.id.clone(),
            refusal,
        })
}

/// The state as JSON, for hooks.
fn state_json(record: &Record, status: Status) -> String {
    serde_json::to_string(&record.oci_state(status)).expect("a state serializes")
}

/// Run the poststart or poststop hooks, whose failure the spec makes a
/// warning: the container has started, or is gone, either way.
fn late_hooks(record: &Record, kind: &'static str, status: Status) {
    let Some(hooks) = &record.hooks else { return };
    let list = if kind == "poststart" {
        hooks.poststart()
    } else {
        hooks.poststop()
    };
    let state = state_json(record, status);
    if let Err(e) = crate::hooks::run(kind, list.as_deref().unwrap_or_default(), &state) {
        crate::cli::log_warning(&e.to_string());
    }
}

// ANCHOR: start
/// `start`: let the created container's process run its program.
pub fn start(root: &Path, id: &str) -> Result<(), RuntimeError> {
    let record = Record::load(root, id)?;
    allowed(&record, record.status(root), Operation::Start)?;
    if !record.has_process {
        return Err(crate::bundle::BundleError::Invalid {
            field: "process".into(),
            message: "missing: a container can be created without one, but not started (the spec's rule); delete it".into(),
        }
        .into());
    }
    let fifo = Record::dir(root, id).join(FIFO);
    // Non-blocking: if the process died since, there is no reader, and
    // open fails (ENXIO) instead of waiting for ever.
    let fd = open(
        &fifo,
        OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        RuntimeError::sys(
            format!("open {} (is the container's process gone?)", fifo.display()),
            e,
        )
    })?;
    // SAFETY: `open` just returned this descriptor, owned by nothing else.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    write(&fd, b"0").map_err(|e| RuntimeError::sys("write exec.fifo", e))?;
    // Without the fifo the container counts as running.
    fs::remove_file(&fifo).map_err(|e| RuntimeError::io(&fifo, e))?;
    // The process reads the byte, runs the startContainer hooks and
    // execs the program; its end of the fifo closes on exec. A fifo's
    // writer learns that its last reader is gone from poll (POLLERR):
    // then, and only then, the program runs and poststart may follow.
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::empty())];
    while let Err(nix::errno::Errno::EINTR) = poll(&mut fds, PollTimeout::NONE) {}
    drop(fd);
    late_hooks(&record, "poststart", Status::Running);
    Ok(())
}
// ANCHOR_END: start

/// `state`: the spec's JSON document.
pub fn state(root: &Path, id: &str) -> Result<String, RuntimeError> {
    let record = Record::load(root, id)?;
    let status = record.status(root);
    Ok(serde_json::to_string_pretty(&record.oci_state(status)).expect("a state serializes"))
}

/// A signal by name (`TERM`, `SIGTERM`) or number (`15`).
pub fn parse_signal(text: &str) -> Result<Signal, RuntimeError> {
    let bad = || {
        RuntimeError::Unsupported(format!(
            "{text:?} is not a signal: use a name like TERM or KILL, or a number"
        ))
    };
    if let Ok(number) = text.parse::<i32>() {
        return Signal::try_from(number).map_err(|_| bad());
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse().map_err(|_| bad())
}

/// `kill`: send a signal to the container's process (`--all`: to every
/// process in its cgroup).
pub fn kill(root: &Path, id: &str, signal: Signal, all: bool) -> Result<(), RuntimeError> {
    let record = Record::load(root, id)?;
    allowed(&record, record.status(root), Operation::Kill)?;
    if all {
        for pid in record.cgroup.pids() {
            let _ = send_signal(pid, signal);
        }
        return Ok(());
    }
    send_signal(record.pid(), signal)
        .map_err(|e| RuntimeError::sys(format!("kill {}", record.pid()), e))
}

// ANCHOR: delete
/// `delete`: take down a stopped container (`--force`: kill it first).
pub fn delete(root: &Path, id: &str, force: bool) -> Result<(), RuntimeError> {
    let record = match Record::load(root, id) {
        Ok(record) => record,
        // A create that died half way left a directory without a record.
        Err(RuntimeError::Refused { .. }) if force => {
            let dir = Record::dir(root, id);
            return fs::remove_dir_all(&dir).map_err(|e| RuntimeError::io(dir, e));
        }
        // Nothing to delete is what --force wants (as in runc): an engine
        // cleaning up after a container may come second.
        Err(RuntimeError::NoSuchContainer(_)) if force => return Ok(()),
        Err(error) => return Err(error),
    };
    let status = record.status(root);
    if status != Status::Stopped {
        if !force {
            allowed(&record, status, Operation::Delete)?;
        }
        if record.own_pid_namespace {
            // The kernel ends the whole namespace with its first process.
            let _ = send_signal(record.pid(), Signal::SIGKILL);
        }
        for pid in record.cgroup.pids() {
            let _ = send_signal(pid, Signal::SIGKILL);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while record.alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    if let Some(failure) = record.cgroup.remove() {
        return Err(RuntimeError::Cgroup(failure));
    }
    let dir = Record::dir(root, id);
    fs::remove_dir_all(&dir).map_err(|e| RuntimeError::io(&dir, e))?;
    late_hooks(&record, "poststop", Status::Stopped);
    Ok(())
}
// ANCHOR_END: delete

/// `ps`: the container's processes, as a JSON array of pids or a table.
pub fn ps(root: &Path, id: &str, json: bool) -> Result<String, RuntimeError> {
    let record = Record::load(root, id)?;
    let mut pids: Vec<i32> = record.cgroup.pids().iter().map(|p| p.as_raw()).collect();
    pids.sort();
    if json {
        return Ok(serde_json::to_string(&pids).expect("numbers serialize"));
    }
    let mut out = String::from("PID     CMD\n");
    for pid in pids {
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let words: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|w| !w.is_empty())
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        out.push_str(&format!("{pid:<7} {}\n", words.join(" ")));
    }
    Ok(out.trim_end().to_string())
}

/// `list`: every container under `root`, with its status.
pub fn list(root: &Path) -> String {
    let mut out = String::from("ID                                                                 PID      STATUS    BUNDLE\n");
    for id in crate::state::list(root) {
        match Record::load(root, &id) {
            Ok(record) => {
                let status = record.status(root);
                let pid = record.oci_state(status).pid;
                out.push_str(&format!(
                    "{id:<66} {pid:<8} {status:<9} {}\n",
                    record.bundle.display()
                ));
            }
            Err(_) => out.push_str(&format!("{id:<66} {:<8} {:<9}\n", 0, "creating")),
        }
    }
    out.trim_end().to_string()
}

// ANCHOR: run
/// `run`: create, start, wait for the program's end, delete; the
/// program's exit code. The runtime makes itself a subreaper, so that the
/// container's process, orphaned when create's first child exits, becomes
/// its child to wait for.
pub fn run(root: &Path, id: &str, bundle: &Path) -> Result<i32, RuntimeError> {
    let signals = cratebox_sandbox::supervise::forwarded_signals();
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) takes an integer.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    cratebox_sandbox::supervise::block(&signals)
        .map_err(|e| RuntimeError::sys("sigprocmask", e))?;
    crate::create::create(&crate::create::CreateOptions {
        root: root.to_path_buf(),
        id: id.to_string(),
        bundle: bundle.to_path_buf(),
        pid_file: None,
        console_socket: None,
        preserve_fds: 0,
    })?;
    let record = Record::load(root, id)?;
    let code = start(root, id).and_then(|()| {
        cratebox_sandbox::supervise::supervise(record.pid(), &signals)
            .map_err(|e| RuntimeError::sys("wait", e))
    });
    let deleted = delete(root, id, true);
    let code = code?;
    deleted?;
    Ok(code)
}
// ANCHOR_END: run
