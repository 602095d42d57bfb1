//! Chapter 2: a process in its own namespaces, on its own root.
//!
//! The parent clones a child into new namespaces. The child waits until the
//! parent has written its id maps (user namespace), then sets itself up:
//! hostname, mount plan, pivot_root, `lo`. Meanwhile the parent does what
//! must happen before the command runs (chapter 3 puts the child in a
//! cgroup here). Then the child creates its cgroup namespace and becomes
//! the container's init, which starts the command.
//!
//! ```text
//! parent                              child (PID 1 inside)
//! ──────                              ─────────────────────
//! clone(NEWUTS|NEWPID|NEWNS|...) ──►  wait for MAPS_WRITTEN
//! write uid_map / gid_map
//! send MAPS_WRITTEN               ──►  become root of the user namespace
//! (chapter 3: make the cgroup,        sethostname, mount plan, pivot_root
//!  put the child in it)               bring up lo
//! send GO                        ──►  wait for GO, unshare the cgroup ns
//! read report pipe                    fork ─► PID 2: execve(command)
//! wait, forwarding signals       ◄──  reap, forward, exit with its code
//! ```

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::{clone, unshare, CloneFlags};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::stat::{umask, Mode};
use nix::sys::wait::waitpid;
use nix::unistd::{
    close, pipe2, read, setgroups, sethostname, setresgid, setresuid, write, Gid, Pid, Uid,
};

use crate::command::{ContainerCommand, PreparedCommand};
use crate::idmap::{write_maps, IdRange};
use crate::init::run_init;
use crate::mount_point::MountPoints;
use crate::mounts::{mount_plan, perform, MountError, PlanOptions};
use crate::namespaces::{clone_flags, Namespaces};
use crate::network::bring_up_loopback;
use crate::report::{self, SETUP_FAILED};
use crate::supervise::{block, forwarded_signals, supervise};
use crate::ContainerError;
use thiserror::Error;

/// Everything needed to start a container.
#[derive(Debug, Clone)]
pub struct ContainerConfig {
    /// The root file system (checked and made absolute by [`spawn`]).
    pub rootfs: PathBuf,
    /// The container's hostname.
    pub hostname: String,
    /// Which namespaces to create.
    pub namespaces: Namespaces,
    /// Where ids inside the user namespace land on the host (with `user`).
    pub id_range: IdRange,
    /// What to run.
    pub command: ContainerCommand,
    /// Overlay mount options when `rootfs` is an empty directory on which
    /// the image's layers are to be mounted (chapter 4); `None` for a plain
    /// root directory. Of any length: past one page, the child names the
    /// directories by descriptor (see [`crate::overlay`]).
    pub overlay: Option<String>,
    /// The container's stdin, stdout and stderr, when they are not ours:
    /// descriptors of this process (pipes to a supervisor, chapter 6),
    /// which the child puts in place of 0, 1 and 2 before anything else.
    pub stdio: Option<[RawFd; 3]>,
    /// Volumes, bind mounts and tmpfs mounts (chapter 6).
    pub mounts: Vec<crate::mounts::ExtraMount>,
    /// Another container's network namespace to join instead of a new one
    /// (chapter 7, `--network container:NAME`): an open `/proc/PID/ns/net`.
    pub join_network: Option<RawFd>,
    /// Masked and read-only paths, and `--read-only` (chapter 9).
    pub paths: crate::paths::PathRules,
    /// `--device` nodes besides the default ones (chapter 9).
    pub devices: Vec<crate::devices::HostDevice>,
}

/// Stack for the cloned child. clone(2) without CLONE_VM gives the child a
/// copy of our memory, this buffer included; 1 MiB is ample for the setup
/// code, and untouched pages cost nothing.
const STACK_SIZE: usize = 1024 * 1024;

/// The parent's first byte down the go pipe: the child's uid and gid maps
/// are written, so it may become root of its user namespace and set up.
pub const MAPS_WRITTEN: u8 = b'M';
/// The parent's second byte: the child is in its cgroup, so the command
/// may start. (End-of-file instead of either means the parent gave up.)
pub const GO: u8 = b'G';

/// A container whose first process exists and sets itself up, but will
/// not start the command before [`Spawned::start`].
#[derive(Debug)]
pub struct Spawned {
    pid: Pid,
    go_write: OwnedFd,
    report_read: OwnedFd,
    signals: SigSet,
}

// ANCHOR: spawn
/// Clone the container's first process into its new namespaces. It stops
/// and waits before touching anything, so the caller can act on its pid
/// (write id maps, join a cgroup) before it runs.
pub fn spawn(config: &ContainerConfig) -> Result<Spawned, ContainerError> {
    crate::hostname::validate_hostname(&config.hostname)?;
    let rootfs = match config.overlay {
        None => crate::rootfs::validate_rootfs(&config.rootfs)?,
        // The mount point of an overlay is empty until the child mounts it.
        Some(_) => crate::rootfs::mount_point(&config.rootfs)?,
    };
    if config.namespaces.user {
        crate::rootfs::check_reachable_by_others(&rootfs)?;
    }
    let command = config
        .command
        .prepare()
        .map_err(|_| ContainerError::NulInCommand)?;
    // The cgroup namespace is not created by clone: its root is the cgroup
    // the process is in when it is created, and the parent moves the child
    // into the container's cgroup only after clone. The child unshares it
    // once it has been let go, so that /proc/self/cgroup inside shows "/".
    let flags = clone_flags(&config.namespaces) - CloneFlags::CLONE_NEWCGROUP;
    let plan_options = PlanOptions {
        // In any user namespace but the host's, mknod is refused: the
        // container's own (`--userns`), or a rootless user's (chapter 9).
        user_namespace: config.namespaces.user || crate::rootless::in_user_namespace(),
        overlay: config.overlay.clone(),
        mounts: config.mounts.clone(),
        paths: config.paths.clone(),
        devices: config.devices.clone(),
    };
    let plan = mount_plan(&rootfs, &plan_options);

    let (go_read, go_write) =
        pipe2(OFlag::O_CLOEXEC).map_err(|e| ContainerError::syscall("pipe2", e))?;
    let (report_read, report_write) =
        pipe2(OFlag::O_CLOEXEC).map_err(|e| ContainerError::syscall("pipe2", e))?;
    let signals = forwarded_signals();
    block(&signals).map_err(|e| ContainerError::syscall("sigprocmask", e))?;

    let mut stack = vec![0u8; STACK_SIZE];
    let (go_write_raw, report_read_raw) = (go_write.as_raw_fd(), report_read.as_raw_fd());
    // The child must own its end of the report pipe, so that init can close
    // it after starting the command: the parent reads until every copy is
    // closed. clone(2) takes an FnMut, hence the Option to take it out of.
    let mut report_write = Some(report_write);
    let child_main = Box::new(|| {
        // The parent's ends of the pipes are the parent's business.
        let _ = close(go_write_raw);
        let _ = close(report_read_raw);
        let setup = ChildSetup {
            hostname: &config.hostname,
            user_namespace: config.namespaces.user,
            cgroup_namespace: config.namespaces.cgroup,
            root: &rootfs,
            plan: &plan,
            stdio: config.stdio,
            join_network: config.join_network,
        };
        match report_write.take() {
            Some(report_write) => child(&setup, &command, &go_read, report_write) as isize,
            None => SETUP_FAILED as isize,
        }
    });
    // ANCHOR: spawn_clone
    // SAFETY: we are single-threaded, so the child (a copy of this process
    // running `child_main` on `stack`) may allocate and use everything the
    // closure borrows. SIGCHLD lets us wait for it like a forked child.
    let pid = unsafe { clone(child_main, &mut stack, flags, Some(libc::SIGCHLD)) }
        .map_err(|e| ContainerError::syscall("clone", e))?;
    drop(go_read);
    drop(report_write.take());

    let spawned = Spawned {
        pid,
        go_write,
        report_read,
        signals,
    };
    if config.namespaces.user {
        if let Err(error) = write_maps(pid, &[config.id_range]) {
            spawned.abort();
            return Err(error.into());
        }
    }
    // The maps are in place: the child may set itself up.
    if let Err(errno) = write(&spawned.go_write, &[MAPS_WRITTEN]) {
        spawned.abort();
        return Err(ContainerError::syscall("write", errno));
    }
    Ok(spawned)
    // ANCHOR_END: spawn_clone
}
// ANCHOR_END: spawn

impl Spawned {
    /// The container's first process, as the host numbers it.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    // ANCHOR: start
    /// Let the child go on, and wait for the command to end. Returns its
    /// exit code, or the child's own report if it could not start it.
    pub fn start(self) -> Result<i32, ContainerError> {
        self.go()?.wait()
    }
    // ANCHOR_END: start

    // ANCHOR: go
    /// Let the child go on, and return once its command runs (its exec
    /// closed the report pipe) or failed to start (the report says why;
    /// the child is reaped then). Chapter 6's supervisor does other work
    /// between this and the end of the command.
    pub fn go(self) -> Result<Started, ContainerError> {
        // If the child already failed its setup, it is gone and this write
        // fails (EPIPE); its report, read next, says why.
        let _ = write(&self.go_write, &[GO]);
        drop(self.go_write);
        match report::receive(self.report_read) {
            Some(report) => {
                // The child exits right after its report: reap it.
                let _ = supervise(self.pid, &self.signals);
                Err(ContainerError::InChild(report))
            }
            None => Ok(Started {
                pid: self.pid,
                signals: self.signals,
            }),
        }
    }
    // ANCHOR_END: go

    /// Kill the waiting child and reap it: nothing is left behind, since
    /// whatever it mounted is in its own mount namespace, which dies with it.
    pub fn abort(self) {
        let _ = kill(self.pid, Signal::SIGKILL);
        let _ = waitpid(self.pid, None);
    }

    /// [`Spawned::abort`], and what the child reported if its own setup
    /// had failed meanwhile: when the caller's step failed because the
    /// child was already gone, the child's reason is the one to tell.
    pub fn abort_reporting(self) -> Option<ContainerError> {
        let _ = kill(self.pid, Signal::SIGKILL);
        let _ = waitpid(self.pid, None);
        drop(self.go_write);
        report::receive(self.report_read).map(ContainerError::InChild)
    }
}

/// A container whose command runs.
#[derive(Debug)]
pub struct Started {
    pid: Pid,
    signals: SigSet,
}

impl Started {
    /// The container's first process (its init), as the host numbers it.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The signals blocked for this process while the container runs, to be
    /// taken with sigwaitinfo or a signalfd.
    pub fn signals(&self) -> &SigSet {
        &self.signals
    }

    /// Wait for the container to end, forwarding our signals to it; its
    /// exit code.
    pub fn wait(self) -> Result<i32, ContainerError> {
        supervise(self.pid, &self.signals).map_err(|e| ContainerError::syscall("waitpid", e))
    }
}

/// Start a container and wait for it: [`spawn`], then [`Spawned::start`].
pub fn run(config: &ContainerConfig) -> Result<i32, ContainerError> {
    spawn(config)?.start()
}

/// A step of the child's setup that failed.
#[derive(Debug, Error)]
enum SetupError {
    #[error("cannot become root of the user namespace: {0}")]
    BecomeRoot(Errno),
    #[error("cannot create the cgroup namespace: {0}")]
    CgroupNamespace(Errno),
    #[error("sethostname: {0}")]
    Hostname(Errno),
    #[error(transparent)]
    Mount(#[from] MountError),
    #[error("cannot bring up lo: {0}")]
    Loopback(Errno),
    #[error("cannot join the other container's network namespace: {0}")]
    JoinNetwork(Errno),
}

/// What the child needs besides the command.
struct ChildSetup<'a> {
    hostname: &'a str,
    user_namespace: bool,
    cgroup_namespace: bool,
    /// The container's root, inside which every step's destination is resolved.
    root: &'a Path,
    plan: &'a [crate::mounts::MountOp],
    stdio: Option<[RawFd; 3]>,
    join_network: Option<RawFd>,
}

// ANCHOR: child
/// The cloned child: PID 1 of the new PID namespace. Returns its exit code.
///
/// It waits twice: for [`MAPS_WRITTEN`] (its id maps are written, so it may become root
/// of its user namespace and set itself up) and for [`GO`] (it is in its
/// cgroup, so the command may run).
fn child(
    setup: &ChildSetup<'_>,
    command: &PreparedCommand,
    go_read: &OwnedFd,
    report_write: OwnedFd,
) -> i32 {
    // ANCHOR: child_waits
    // Wait until the parent has written our id maps. End-of-file
    // instead means it gave up.
    if !matches!(read_byte(go_read), Some(MAPS_WRITTEN)) {
        return SETUP_FAILED;
    }
    // The supervisor's pipes (or terminal) become our stdio, and so the
    // command's: everything it prints goes to the supervisor.
    if let Some(fds) = setup.stdio {
        for (fd, target) in fds.into_iter().zip(0..) {
            if fd != target && nix::unistd::dup2(fd, target).is_err() {
                return SETUP_FAILED;
            }
        }
    }
    // Should the program outside die (even by SIGKILL), take the container
    // with it rather than leave it running with nobody to wait for it.
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number and touches no memory.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    // Mounts and the rest happen now, while the parent prepares the cgroup:
    // the two take about as long, and run side by side on two CPUs.
    if let Err(error) = prepare(setup) {
        let message = format!("cannot prepare the container: {error}");
        report::send(&report_write, SETUP_FAILED, &message);
        return SETUP_FAILED;
    }
    // ANCHOR: child_go
    // Wait for GO: the parent has put us in our cgroup. Only now may the
    // command start; nothing of it runs outside its limits.
    if !matches!(read_byte(go_read), Some(GO)) {
        return SETUP_FAILED;
    }
    // ANCHOR_END: child_waits
    // The cgroup namespace's root is the cgroup we are in when we create
    // it, so it comes after joining: /proc/self/cgroup inside shows "/".
    if setup.cgroup_namespace {
        if let Err(errno) = unshare(CloneFlags::CLONE_NEWCGROUP) {
            let message = format!(
                "cannot prepare the container: {}",
                SetupError::CgroupNamespace(errno)
            );
            report::send(&report_write, SETUP_FAILED, &message);
            return SETUP_FAILED;
        }
    }
    run_init(command, report_write)
    // ANCHOR_END: child_go
}
// ANCHOR_END: child

// ANCHOR: prepare
/// Everything between the id maps and starting the command, one step at a time.
fn prepare(setup: &ChildSetup<'_>) -> Result<(), SetupError> {
    let root = (Uid::from_raw(0), Gid::from_raw(0));
    // `--network container:NAME`: that container's network, not a new one
    // (while we are still root of the host's user namespace).
    if let Some(fd) = setup.join_network {
        // SAFETY: the parent opened the fd for us and keeps it open until
        // we have started; clone(2) copied it into our table.
        let netns = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        nix::sched::setns(netns, CloneFlags::CLONE_NEWNET).map_err(SetupError::JoinNetwork)?;
    }
    if setup.user_namespace {
        // Become root *of the new user namespace*: uid 0 here is the
        // unprivileged uid the parent mapped it to outside.
        setgroups(&[]).map_err(SetupError::BecomeRoot)?;
        setresgid(root.1, root.1, root.1).map_err(SetupError::BecomeRoot)?;
        setresuid(root.0, root.0, root.0).map_err(SetupError::BecomeRoot)?;
    }
    // Our own UTS namespace: this changes nobody's hostname but ours.
    sethostname(setup.hostname).map_err(SetupError::Hostname)?;
    // Device nodes get exactly the modes in the plan.
    umask(Mode::empty());
    let mut points = MountPoints::new(setup.root);
    for step in setup.plan {
        perform(step, &mut points)?;
    }
    umask(Mode::from_bits_truncate(0o022));
    // A new network namespace has only `lo`, and it is down.
    if setup.join_network.is_none() {
        bring_up_loopback().map_err(SetupError::Loopback)?;
    }
    Ok(())
}
// ANCHOR_END: prepare

/// One byte from the parent, or `None` at end-of-file or on error.
fn read_byte(fd: &OwnedFd) -> Option<u8> {
    let mut byte = [0u8; 1];
    match read(fd.as_raw_fd(), &mut byte) {
        Ok(1) => Some(byte[0]),
        _ => None,
    }
}
