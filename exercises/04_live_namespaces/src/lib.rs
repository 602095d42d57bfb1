//! # Exercise 04: your own hostname, network and IPC, for real
//!
//! Exercises 01 to 03 built data. This one changes the kernel's view of a
//! real process: it runs as root, in a child the test forks, and the test
//! then runs cratebox's `probe` in that child to see what changed.
//!
//! [`isolate`] moves the calling process into three new namespaces with
//! unshare(2), which is clone(2)'s namespace half for a process that
//! already exists:
//!
//! - UTS, so that sethostname(2) changes only our hostname, not the host's;
//! - network, which starts with nothing but a loopback device, and that one
//!   down: even 127.0.0.1 does not answer until it is brought up;
//! - IPC, so that System V semaphores, shared memory and message queues of
//!   the host are out of sight.
//!
//! Run it as root: `sudo -E cargo ex check 04_live_namespaces` (unshare(2)
//! needs CAP_SYS_ADMIN).

// The parameter is unused until the `todo!()` is replaced.
#![allow(unused_variables)]

/// Put the calling process in new UTS, network and IPC namespaces, name it
/// `hostname`, and bring up its loopback device.
///
/// The caller is a freshly forked child of a multi-threaded test, so this
/// may only make system calls: no allocation, no locks, no printing.
pub fn isolate(hostname: &str) -> nix::Result<()> {
    // TODO: nix::sched::unshare with CLONE_NEWUTS, CLONE_NEWNET and CLONE_NEWIPC.
    // TODO: nix::unistd::sethostname(hostname).
    // TODO: cratebox_sandbox::network::bring_up_loopback().
    todo!("unshare, set the hostname, bring up lo")
}
