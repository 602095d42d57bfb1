//! The container's side of `create`, in two processes.
//!
//! ```text
//! runtime ── fork ──► stage one: join the namespaces given by path,
//!                     unshare the new ones (user first, then the rest)
//!                        └─ fork ──► the container's process: PID 1 of
//!                                    the new PID namespace, which sets up
//!                                    the root file system, pivots into it
//!                                    and waits on exec.fifo for `start`
//! ```
//!
//! Two processes because a new PID namespace (like a joined one) takes
//! effect only for children: stage one makes it, its child is the first
//! process in it. Stage one then exits, and the container's process is
//! re-parented to the nearest subreaper: the engine's monitor (conmon,
//! containerd's shim) when there is one.

use std::ffi::CString;
use std::fs::{self, File};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use cratebox_sandbox::paths;
use cratebox_seccomp::Filter;
use nix::mount::{mount, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::{chdir, execve, fork, sethostname, setresgid, setresuid, ForkResult, Gid, Uid};

use crate::bundle::Bundle;
use crate::cgroup::ContainerCgroup;
use crate::devices;
use crate::mount_options;
use crate::sync::Channel;

/// What the container's side needs, prepared by the runtime before fork
/// (so that every error a config can cause is found where it can still be
/// reported simply).
#[derive(Debug)]
pub struct Setup<'a> {
    /// The bundle.
    pub bundle: &'a Bundle,
    /// The container's cgroup (bound into its /sys/fs/cgroup).
    pub cgroup: &'a ContainerCgroup,
    /// exec.fifo, opened read-write: the process reads `start`'s byte.
    pub fifo: OwnedFd,
    /// The engine's console socket, connected, when `process.terminal`.
    pub console: Option<OwnedFd>,
    /// The seccomp filter, compiled.
    pub seccomp: Option<Filter>,
    /// How many descriptors after stdio the program inherits.
    pub preserve_fds: i32,
}

/// Stage one, in the runtime's first child. Never returns.
pub fn stage_one(setup: &Setup<'_>, channel: Channel) -> ! {
    let code = match join_and_unshare(setup, &channel) {
        Ok(()) => 0,
        Err(message) => {
            channel.error(&message);
            1
        }
    };
    // SAFETY: _exit ends this process without running the parent's
    // atexit handlers or flushing its copied buffers.
    unsafe { libc::_exit(code) }
}

// ANCHOR: join_and_unshare
fn join_and_unshare(setup: &Setup<'_>, channel: &Channel) -> Result<(), String> {
    channel.expect("go")?;
    let plan = &setup.bundle.namespaces;
    // Open every path first: after joining a mount namespace, the others
    // would be looked up in it.
    let mut joins = Vec::new();
    for (flag, path) in &plan.join {
        let file = File::open(path)
            .map_err(|e| format!("linux.namespaces: cannot open {}: {e}", path.display()))?;
        joins.push((*flag, path, file));
    }
    for (flag, path, file) in &joins {
        setns(file.as_fd(), *flag).map_err(|e| {
            format!(
                "linux.namespaces: cannot join {} ({}): {e}",
                path.display(),
                crate::namespaces::name_of(*flag)
            )
        })?;
    }
    if plan.unshare.contains(CloneFlags::CLONE_NEWUSER) {
        unshare(CloneFlags::CLONE_NEWUSER).map_err(|e| format!("unshare(CLONE_NEWUSER): {e}"))?;
        channel.send("userns").map_err(|e| e.to_string())?;
        channel.expect("mapped")?;
    }
    if plan.has(CloneFlags::CLONE_NEWUSER) {
        // Become the namespace's root, if the maps have one.
        let _ = setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0));
        let _ = setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0));
    }
    let rest = plan.unshare - CloneFlags::CLONE_NEWUSER;
    unshare(rest).map_err(|e| format!("linux.namespaces: unshare({rest:?}): {e}"))?;
    // SAFETY: this process is single-threaded (the runtime never starts a
    // thread), so the child may do anything after fork.
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => stage_two(setup, channel),
        ForkResult::Parent { child } => channel
            .send(&format!("pid {child}"))
            .map_err(|e| e.to_string()),
    }
}
// ANCHOR_END: join_and_unshare

/// The container's process. Never returns: it execs the program, or
/// reports why it cannot and exits.
fn stage_two(setup: &Setup<'_>, channel: &Channel) -> ! {
    match prepare(setup, channel) {
        Ok((program, state)) => {
            let error = wait_and_exec(setup, program, &state);
            // `created` was sent: the runtime is gone, the engine reads
            // our stderr.
            eprintln!("cratebox-runtime: {error}");
            // SAFETY: see stage_one.
            unsafe { libc::_exit(127) }
        }
        Err(message) => {
            channel.error(&message);
            // SAFETY: see stage_one.
            unsafe { libc::_exit(1) }
        }
    }
}

/// What execve needs; `None` for a container created without a process.
type Program = Option<(CString, Vec<CString>, Vec<CString>)>;

// ANCHOR: prepare
/// Everything up to `created`: the root file system, the hooks that run
/// before pivot_root, pivot_root, the kernel settings, the terminal.
fn prepare(setup: &Setup<'_>, channel: &Channel) -> Result<(Program, String), String> {
    let spec = &setup.bundle.spec;
    let linux = spec.linux().as_ref().ok_or("linux: missing")?;
    let root = &setup.bundle.rootfs;
    let user_namespace = setup.bundle.namespaces.has(CloneFlags::CLONE_NEWUSER);
    // A new mount namespace, or one joined by path: either way the
    // container's mounts are made in it, never in the runtime's.
    let own_mounts = setup.bundle.namespaces.has(CloneFlags::CLONE_NEWNS);
    if own_mounts {
        // Nothing we mount may reach the host's mount namespace.
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_SLAVE | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| format!("making / a slave mount: {e}"))?;
        // pivot_root needs the new root to be a mount point.
        mount(
            Some(root),
            root,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| format!("root.path: cannot bind {} onto itself: {e}", root.display()))?;
        let mounts = spec.mounts().as_deref().unwrap_or_default();
        for (index, m) in mounts.iter().enumerate() {
            crate::mounts::mount_one(root, &setup.bundle.dir, setup.cgroup, m)
                .map_err(|e| format!("mounts[{index}] ({}): {e}", m.destination().display()))?;
        }
        let dev_is_bound = mounts.iter().any(|m| {
            m.destination() == Path::new("/dev")
                && (m.typ().as_deref() == Some("bind")
                    || m.options()
                        .as_deref()
                        .unwrap_or_default()
                        .iter()
                        .any(|o| o == "bind" || o == "rbind"))
        });
        if !dev_is_bound {
            for node in devices::default_nodes() {
                devices::make(root, &node, user_namespace)
                    .map_err(|e| format!("default device {e}"))?;
            }
            devices::links(root)?;
        }
        for (index, device) in linux
            .devices()
            .as_deref()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            devices::make(root, &devices::node(device), user_namespace)
                .map_err(|e| format!("linux.devices[{index}]: {e}"))?;
        }
    }
    channel.send("hooks").map_err(|e| e.to_string())?;
    let state = match channel.recv() {
        Some(message) if message.starts_with("hooked ") => message["hooked ".len()..].to_string(),
        Some(message) => {
            return Err(message
                .strip_prefix("error ")
                .unwrap_or(&message)
                .to_string())
        }
        None => return Err("the runtime ended".to_string()),
    };
    if let Some(hooks) = spec.hooks() {
        crate::hooks::run(
            "createContainer",
            hooks.create_container().as_deref().unwrap_or_default(),
            &state,
        )
        .map_err(|e| e.to_string())?;
    }
    if own_mounts {
        // Chapter 2's pivot_root, which needs no directory for the old root.
        cratebox_sandbox::mounts::pivot_into(root)
            .map_err(|e| format!("root.path: pivot_root into {}: {e}", root.display()))?;
        if let Some(propagation) = linux
            .rootfs_propagation()
            .as_deref()
            .and_then(mount_options::propagation)
        {
            mount(None::<&str>, "/", None::<&str>, propagation, None::<&str>)
                .map_err(|e| format!("linux.rootfsPropagation: {e}"))?;
        }
    }
    if let Some(hostname) = spec.hostname().as_deref().filter(|h| !h.is_empty()) {
        sethostname(hostname).map_err(|e| format!("hostname {hostname:?}: {e}"))?;
    }
    if let Some(domain) = spec.domainname().as_deref().filter(|d| !d.is_empty()) {
        // SAFETY: setdomainname reads `len` bytes of the string, ours.
        if unsafe { libc::setdomainname(domain.as_ptr().cast(), domain.len()) } != 0 {
            return Err(format!(
                "domainname {domain:?}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    let mut sysctls: Vec<_> = linux.sysctl().iter().flatten().collect();
    sysctls.sort();
    for (name, value) in sysctls {
        let file = PathBuf::from("/proc/sys").join(name.replace('.', "/"));
        fs::write(&file, value).map_err(|e| format!("linux.sysctl: {name}={value}: {e}"))?;
    }
    if own_mounts {
        let top = Path::new("/");
        for path in linux.masked_paths().as_deref().unwrap_or_default() {
            paths::mask(top, Path::new(path))
                .map_err(|e| format!("linux.maskedPaths: {path}: {e}"))?;
        }
        for path in linux.readonly_paths().as_deref().unwrap_or_default() {
            paths::read_only(top, Path::new(path))
                .map_err(|e| format!("linux.readonlyPaths: {path}: {e}"))?;
        }
        if spec.root().as_ref().and_then(|r| r.readonly()) == Some(true) {
            paths::remount_adding(top, MsFlags::MS_RDONLY)
                .map_err(|e| format!("root.readonly: {e}"))?;
        }
    }
    let process = setup.bundle.process();
    if let Some(console) = &setup.console {
        crate::console::terminal(console.as_raw_fd(), process.console_size().as_ref(), true)?;
    } else {
        // Its own session, as a container's first process is in docker.
        let _ = nix::unistd::setsid();
    }
    let cwd = process.cwd();
    if !cwd.exists() {
        fs::create_dir_all(cwd).map_err(|e| format!("process.cwd {}: {e}", cwd.display()))?;
    }
    chdir(cwd).map_err(|e| format!("process.cwd {}: {e}", cwd.display()))?;
    let program = match setup.bundle.has_process {
        true => Some(crate::process::command_line(process)?),
        false => None,
    };
    crate::process::set_rlimits(process)?;
    // Until `start`, a signal ends the process as it would a program
    // without handlers (PID 1 of a namespace ignores what it has no
    // handler for, so `kill` of a created container would do nothing).
    leave_on_signals()?;
    channel.send("created").map_err(|e| e.to_string())?;
    Ok((program, state))
}
// ANCHOR_END: prepare

// ANCHOR: wait_and_exec
/// After `created`: wait for `start`, then become the program.
fn wait_and_exec(setup: &Setup<'_>, program: Program, state: &str) -> String {
    let mut byte = [0u8; 1];
    loop {
        match nix::unistd::read(setup.fifo.as_raw_fd(), &mut byte) {
            Ok(1) => break,
            Err(nix::errno::Errno::EINTR) => continue,
            other => return format!("waiting for start on exec.fifo: {other:?}"),
        }
    }
    // `start` refuses a container without a process; nothing to run.
    let Some((path, argv, envp)) = program else {
        return "config.json: process: missing, so there is nothing to start".to_string();
    };
    let process = setup.bundle.process();
    if let Some(hooks) = setup.bundle.spec.hooks() {
        // The state the runtime sent for createContainer, now "created".
        let state = serde_json::from_str::<crate::state::OciState>(state)
            .map(|mut s| {
                s.status = crate::lifecycle::Status::Created;
                serde_json::to_string(&s).unwrap_or_default()
            })
            .unwrap_or_default();
        if let Err(e) = crate::hooks::run(
            "startContainer",
            hooks.start_container().as_deref().unwrap_or_default(),
            &state,
        ) {
            return e.to_string();
        }
    }
    // Before the seccomp filter, which may not allow close_range.
    if let Err(e) = keep_only_preserved(setup.preserve_fds) {
        return e;
    }
    if let Err(e) = crate::process::become_process(process, setup.seccomp.as_ref()) {
        return e;
    }
    let _ = cratebox_sandbox::supervise::unblock_all();
    match execve(&path, &argv, &envp) {
        Err(e) => format!("process.args[0] {path:?}: execve: {e}"),
        Ok(never) => match never {},
    }
}
// ANCHOR_END: wait_and_exec

extern "C" fn leave(signal: libc::c_int) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(128 + signal) }
}

fn leave_on_signals() -> Result<(), String> {
    let action = SigAction::new(
        SigHandler::Handler(leave),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for signal in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGALRM,
    ] {
        // SAFETY: the handler only calls _exit.
        unsafe { sigaction(signal, &action) }.map_err(|e| format!("sigaction({signal}): {e}"))?;
    }
    Ok(())
}

/// Close, at execve, every descriptor past stdio and the preserved ones.
pub(crate) fn keep_only_preserved(preserve: i32) -> Result<(), String> {
    let first = 3 + preserve.max(0) as u32;
    // SAFETY: close_range takes integers; CLOSE_RANGE_CLOEXEC only marks
    // the descriptors, so nothing of ours is closed before execve.
    if unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    } != 0
    {
        return Err(format!("close_range: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}
