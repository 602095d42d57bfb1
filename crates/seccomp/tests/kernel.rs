//! The compiled filter in the real kernel. A forked child sets
//! `no_new_privs`, loads the filter and makes the calls; its exit code says
//! which check failed. Loading a filter with `no_new_privs` needs no
//! privilege, so this runs for any user. Each call is one whose result
//! without the filter differs from the one checked here (as root,
//! `unshare(CLONE_NEWUSER)` succeeds; `clone3(NULL, 0)` is EINVAL), so a
//! filter that did nothing fails the test.

#![allow(clippy::unwrap_used)]

use cratebox_seccomp::{Filter, Profile, Target};
use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};

/// Runs `checks` in a forked child after loading `filter`, and returns how
/// the child ended. The child calls only async-signal-safe functions (raw
/// system calls, `_exit`), because the test harness runs other tests on
/// other threads, which may hold locks the child would wait on forever.
fn in_child(filter: &Filter, checks: fn() -> i32) -> WaitStatus {
    // SAFETY: the child below makes only raw system calls and `_exit`s; it
    // neither allocates nor takes locks, so the other threads' state at the
    // moment of fork cannot deadlock it.
    match unsafe { fork() }.unwrap() {
        ForkResult::Child => {
            let code = if nix::sys::prctl::set_no_new_privs().is_err() {
                2
            } else if filter.load().is_err() {
                3
            } else {
                checks()
            };
            // SAFETY: `_exit` ends the child at once, without running the
            // parent's atexit handlers or flushing its stdio buffers twice.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => waitpid(child, None).unwrap(),
    }
}

/// A raw system call with three integer arguments: its result, or the
/// errno. Raw, not libc's wrappers, so that what the filter sees is exactly
/// the call written here.
fn raw(
    number: libc::c_long,
    a: libc::c_long,
    b: libc::c_long,
    c: libc::c_long,
) -> Result<libc::c_long, Errno> {
    // SAFETY: every call made through here takes integers, or a pointer that
    // is null with a size of 0, which the kernel does not read through.
    let result = unsafe { libc::syscall(number, a, b, c) };
    if result == -1 {
        Err(Errno::last())
    } else {
        Ok(result)
    }
}

const KEYCTL_GET_KEYRING_ID: libc::c_long = 0;
const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;

/// The default profile's checks; 0 when all pass, else which one failed.
fn default_profile_checks() -> i32 {
    let clone_newuser = libc::c_long::from(libc::CLONE_NEWUSER);
    if raw(libc::SYS_getpid, 0, 0, 0).is_err() {
        return 10;
    }
    if raw(libc::SYS_unshare, clone_newuser, 0, 0) != Err(Errno::EPERM) {
        return 11;
    }
    if raw(
        libc::SYS_keyctl,
        KEYCTL_GET_KEYRING_ID,
        KEY_SPEC_SESSION_KEYRING,
        0,
    ) != Err(Errno::EPERM)
    {
        return 12;
    }
    // clone3(NULL, 0): EINVAL without the filter, so no child is ever made.
    if raw(libc::SYS_clone3, 0, 0, 0) != Err(Errno::ENOSYS) {
        return 13;
    }
    let (af_vsock, sock_stream) = (
        libc::c_long::from(libc::AF_VSOCK),
        libc::c_long::from(libc::SOCK_STREAM),
    );
    if raw(libc::SYS_socket, af_vsock, sock_stream, 0) != Err(Errno::EPERM) {
        return 14;
    }
    0
}

#[test]
fn default_profile_in_the_kernel_refuses_what_it_says() {
    let filter = Profile::docker_default()
        .compile(&Target::host(vec!["CAP_CHOWN".to_string()]))
        .unwrap();
    let status = in_child(&filter, default_profile_checks);
    let failed = match status {
        WaitStatus::Exited(_, 0) => return,
        WaitStatus::Exited(_, 2) => "prctl(PR_SET_NO_NEW_PRIVS) failed",
        WaitStatus::Exited(_, 3) => "seccomp(SECCOMP_SET_MODE_FILTER) refused the filter",
        WaitStatus::Exited(_, 10) => "getpid failed",
        WaitStatus::Exited(_, 11) => "unshare(CLONE_NEWUSER) was not EPERM",
        WaitStatus::Exited(_, 12) => "keyctl was not EPERM",
        WaitStatus::Exited(_, 13) => "clone3 was not ENOSYS",
        WaitStatus::Exited(_, 14) => "socket(AF_VSOCK) was not EPERM",
        _ => "the child ended some other way",
    };
    panic!("{failed}: {status:?}");
}

fn getppid_check() -> i32 {
    let _ = raw(libc::SYS_getppid, 0, 0, 0);
    20
}

#[test]
fn kill_process_ends_the_child_with_sigsys() {
    let profile = Profile::from_json(
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"}]}"#,
    )
    .unwrap();
    let filter = profile.compile(&Target::host(vec![])).unwrap();
    match in_child(&filter, getppid_check) {
        WaitStatus::Signaled(_, Signal::SIGSYS, _) => {}
        other => panic!("getppid should have killed the child with SIGSYS: {other:?}"),
    }
}
