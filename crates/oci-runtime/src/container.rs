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
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use cratebox_sandbox::{mount_point, paths};
use cratebox_seccomp::Filter;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::{
    chdir, execve, fork, pivot_root, sethostname, setresgid, setresuid, ForkResult, Gid, Uid,
};
use oci_spec::runtime::Mount;

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
                kind(*flag)
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

fn kind(flag: CloneFlags) -> &'static str {
    [
        (CloneFlags::CLONE_NEWUSER, "user"),
        (CloneFlags::CLONE_NEWNS, "mount"),
        (CloneFlags::CLONE_NEWPID, "pid"),
        (CloneFlags::CLONE_NEWNET, "network"),
        (CloneFlags::CLONE_NEWIPC, "ipc"),
        (CloneFlags::CLONE_NEWUTS, "uts"),
        (CloneFlags::CLONE_NEWCGROUP, "cgroup"),
    ]
    .into_iter()
    .find(|(f, _)| *f == flag)
    .map_or("time", |(_, name)| name)
}

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
            mount_one(root, &setup.bundle.dir, setup.cgroup, m)
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
        enter(root)?;
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
        terminal(console.as_raw_fd(), process.console_size().as_ref(), true)?;
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

// ANCHOR: enter
/// pivot_root into `root` and let go of the old root. `pivot_root(".",
/// ".")` stacks the old root on top of the new one; unmounting "." then
/// takes it away.
fn enter(root: &Path) -> Result<(), String> {
    chdir(root).map_err(|e| format!("root.path: chdir: {e}"))?;
    pivot_root(".", ".").map_err(|e| format!("root.path: pivot_root: {e}"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| format!("unmounting the old root: {e}"))?;
    chdir("/").map_err(|e| format!("chdir /: {e}"))
}
// ANCHOR_END: enter

// ANCHOR: mount_one
/// One entry of `mounts`, under `root` (before pivot_root).
fn mount_one(
    root: &Path,
    bundle: &Path,
    cgroup: &ContainerCgroup,
    m: &Mount,
) -> Result<(), String> {
    let options = mount_options::parse(m.options().as_deref().unwrap_or_default())?;
    let kind = m.typ().as_deref().unwrap_or("");
    let bind = options.is_bind() || kind == "bind";
    let source = m.source().as_ref().map(|s| {
        if bind && s.is_relative() {
            bundle.join(s)
        } else {
            s.clone()
        }
    });
    let planned = root.join(m.destination().strip_prefix("/").unwrap_or(m.destination()));
    let file_source = bind && source.as_ref().is_some_and(|s| s.exists() && !s.is_dir());
    let target = if file_source {
        mount_point::file(root, &planned)
    } else {
        mount_point::directory(root, &planned)
    }
    .map_err(|e| e.to_string())?;
    if kind == "cgroup" || kind == "cgroup2" {
        return mount_cgroup(&target, cgroup, &options);
    }
    if bind {
        let source = source.ok_or("a bind mount needs a source")?;
        mount(
            Some(&source),
            &target,
            None::<&str>,
            options.flags & (MsFlags::MS_BIND | MsFlags::MS_REC),
            None::<&str>,
        )
        .map_err(|e| format!("bind {}: {e}", source.display()))?;
        let extra = options.remount_flags();
        if !extra.is_empty() {
            paths::remount_adding(&target, extra)
                .map_err(|e| format!("remount with {extra:?}: {e}"))?;
        }
    } else {
        let data = Some(options.data.as_str()).filter(|d| !d.is_empty());
        let source = source.unwrap_or_else(|| PathBuf::from(kind));
        match mount(Some(&source), &target, Some(kind), options.flags, data) {
            Ok(()) => {}
            // sysfs in a user namespace that does not own the network
            // namespace, or mqueue in one that does not own the IPC one:
            // the kernel refuses a new instance; bind the host's, as runc does.
            Err(nix::errno::Errno::EPERM) if kind == "sysfs" || kind == "mqueue" => {
                let host = if kind == "sysfs" {
                    "/sys"
                } else {
                    "/dev/mqueue"
                };
                mount(
                    Some(host),
                    &target,
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                )
                .map_err(|e| format!("bind {host}: {e}"))?;
                paths::remount_adding(
                    &target,
                    options.flags
                        & (MsFlags::MS_RDONLY
                            | MsFlags::MS_NOSUID
                            | MsFlags::MS_NODEV
                            | MsFlags::MS_NOEXEC),
                )
                .map_err(|e| format!("remount: {e}"))?;
            }
            Err(e) => return Err(format!("mount -t {kind} {}: {e}", source.display())),
        }
    }
    for propagation in &options.propagation {
        mount(
            None::<&str>,
            &target,
            None::<&str>,
            *propagation,
            None::<&str>,
        )
        .map_err(|e| format!("propagation {propagation:?}: {e}"))?;
    }
    Ok(())
}
// ANCHOR_END: mount_one

/// A `cgroup` mount: the container's own cgroup directories, bound where
/// the hierarchies would be (what a mount inside a cgroup namespace would
/// show, and it works in a user namespace too).
fn mount_cgroup(
    target: &Path,
    cgroup: &ContainerCgroup,
    options: &mount_options::MountOptions,
) -> Result<(), String> {
    let limits = options.flags & (MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC);
    let bind = |from: &Path, to: &Path| -> Result<(), String> {
        mount(Some(from), to, None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .map_err(|e| format!("bind {}: {e}", from.display()))?;
        paths::remount_adding(
            to,
            options.flags
                & (MsFlags::MS_RDONLY
                    | MsFlags::MS_NOSUID
                    | MsFlags::MS_NODEV
                    | MsFlags::MS_NOEXEC),
        )
        .map_err(|e| format!("remount {}: {e}", to.display()))
    };
    match cgroup.version {
        Some(crate::cgroup::Version::V2) => {
            let dir = cgroup.dirs.first().ok_or("the container has no cgroup")?;
            bind(dir, target)
        }
        _ => {
            mount(
                Some("tmpfs"),
                target,
                Some("tmpfs"),
                limits,
                Some("mode=755"),
            )
            .map_err(|e| format!("tmpfs for the hierarchies: {e}"))?;
            // One directory per hierarchy, named as on the host
            // ("cpu,cpuacct"), and a link for each controller in it.
            let mut done = Vec::new();
            for (controller, dir) in &cgroup.controllers {
                let host_mount = dir
                    .ancestors()
                    .find(|a| a.parent() == Some(Path::new("/sys/fs/cgroup")))
                    .and_then(Path::file_name)
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| controller.clone());
                if !done.contains(&host_mount) {
                    let at = target.join(&host_mount);
                    fs::create_dir_all(&at).map_err(|e| format!("{}: {e}", at.display()))?;
                    bind(dir, &at)?;
                    done.push(host_mount.clone());
                }
                if *controller != host_mount && !target.join(controller).exists() {
                    let _ = std::os::unix::fs::symlink(&host_mount, target.join(controller));
                }
            }
            if options.flags.contains(MsFlags::MS_RDONLY) {
                paths::remount_adding(target, MsFlags::MS_RDONLY)
                    .map_err(|e| format!("remount read-only: {e}"))?;
            }
            Ok(())
        }
    }
}

/// Make a pseudo-terminal inside the container, hand its master to the
/// engine over the console socket, and make its slave our terminal.
pub(crate) fn terminal(
    console: RawFd,
    size: Option<&oci_spec::runtime::Box>,
    console_device: bool,
) -> Result<(), String> {
    use nix::fcntl::OFlag;
    use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};

    let fail = |what: &str, e: nix::errno::Errno| format!("process.terminal: {what}: {e}");
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(|e| fail("open /dev/ptmx", e))?;
    grantpt(&master).map_err(|e| fail("grantpt", e))?;
    unlockpt(&master).map_err(|e| fail("unlockpt", e))?;
    let name = ptsname_r(&master).map_err(|e| fail("ptsname", e))?;
    let slave = nix::fcntl::open(
        name.as_str(),
        OFlag::O_RDWR | OFlag::O_NOCTTY,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| fail("open the slave", e))?;
    if let Some(size) = size {
        let winsize = libc::winsize {
            ws_row: size.height() as u16,
            ws_col: size.width() as u16,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one winsize, ours.
        unsafe { libc::ioctl(slave, libc::TIOCSWINSZ, &winsize) };
    }
    let fds = [master.as_raw_fd()];
    let payload = [std::io::IoSlice::new(name.as_bytes())];
    sendmsg::<()>(
        console,
        &payload,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map_err(|e| fail("send the master to --console-socket", e))?;
    drop(master);
    nix::unistd::setsid().map_err(|e| fail("setsid", e))?;
    // SAFETY: TIOCSCTTY takes an integer argument.
    if unsafe { libc::ioctl(slave, libc::TIOCSCTTY, 0) } != 0 {
        return Err(format!(
            "process.terminal: TIOCSCTTY: {}",
            std::io::Error::last_os_error()
        ));
    }
    for fd in 0..3 {
        nix::unistd::dup2(slave, fd).map_err(|e| fail("dup2", e))?;
    }
    if slave > 2 {
        let _ = nix::unistd::close(slave);
    }
    if !console_device {
        return Ok(());
    }
    // /dev/console is the terminal too, as in runc.
    let console_path = Path::new("/dev/console");
    if !console_path.exists() {
        let _ = File::create(console_path);
    }
    let _ = mount(
        Some(name.as_str()),
        console_path,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    );
    Ok(())
}
