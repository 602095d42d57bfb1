//! Network namespaces of a test's own. A test that makes bridges,
//! addresses or firewall rules makes them in one of these, which plays
//! the host, so that the real host's network is never touched; and its
//! traffic goes only between such namespaces.

use std::fs::File;
use std::os::fd::AsFd;

use nix::sched::{setns, unshare, CloneFlags};

/// A new network namespace, alive as long as the returned file is open.
pub fn new_netns() -> File {
    std::thread::spawn(|| {
        unshare(CloneFlags::CLONE_NEWNET).expect("cannot make a network namespace (root?)");
        File::open("/proc/thread-self/ns/net").expect("cannot open the new namespace")
    })
    .join()
    .expect("the thread making a namespace panicked")
}

/// Run `work` in a thread of its own inside `netns`; what it returns.
/// (A thread, not the test's: a namespace joined is joined for good.)
pub fn inside<T: Send + 'static>(netns: &File, work: impl FnOnce() -> T + Send + 'static) -> T {
    let netns = netns.try_clone().expect("cannot use the namespace");
    std::thread::spawn(move || {
        setns(netns.as_fd(), CloneFlags::CLONE_NEWNET).expect("cannot join the namespace");
        work()
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
