//! Reference solution for exercise 04: new UTS, network and IPC namespaces.

use cratebox_sandbox::network::bring_up_loopback;
use nix::sched::{unshare, CloneFlags};
use nix::unistd::sethostname;

/// Put the calling process in new UTS, network and IPC namespaces, name it
/// `hostname`, and bring up its loopback device.
///
/// The caller is a freshly forked child of a multi-threaded test, so this
/// may only make system calls: no allocation, no locks, no printing.
pub fn isolate(hostname: &str) -> nix::Result<()> {
    // One call for all three: unshare(2) takes the same CLONE_NEW* bits as clone(2).
    unshare(CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWIPC)?;
    // Changes the new UTS namespace's copy; the host keeps its name.
    sethostname(hostname)?;
    // The new network namespace's only device, lo, starts down.
    bring_up_loopback()
}
