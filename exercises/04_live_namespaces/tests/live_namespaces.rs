//! Exercise 04's test, run for real as root: a forked child calls
//! `isolate`, checks its loopback, and execs cratebox's `probe`, whose report
//! says which namespaces are now the child's own.

#[cfg(not(feature = "solution"))]
use ex04_live_namespaces as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/04_live_namespaces.rs"]
mod subject;

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use cratebox_testkit::{host_namespaces, normalize_report, require_root, TestEnv, PROBE_PATH};
use nix::fcntl::OFlag;
use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, SockaddrIn};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{dup2, fork, pipe2, write, ForkResult};

/// How the child tells the parent it never reached the probe. The probe
/// itself exits with 0, or 2 for a usage error.
const ISOLATE_FAILED: i32 = 200;
const ISOLATE_PANICKED: i32 = 201;
const EXEC_FAILED: i32 = 202;

#[test]
fn probe_sees_its_own_uts_net_and_ipc_and_the_host_keeps_its_hostname() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let host_hostname =
        std::fs::read_to_string("/proc/sys/kernel/hostname").expect("cannot read the hostname");

    let report = run_isolated_probe(env.rootfs());

    insta::assert_snapshot!(lines_that_matter(&normalize_report(
        &report,
        &env.host_bounding_set()
    )));
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").expect("cannot read the hostname"),
        host_hostname,
        "sethostname in the new UTS namespace must leave the host's name alone"
    );
    // The child's namespaces died with it; this checks the temp dir and mounts.
    env.finish();
}

/// Fork; in the child, `isolate`, report whether 127.0.0.1 is reachable and
/// exec the probe, its stdout on a pipe. Returns what the pipe carried.
fn run_isolated_probe(rootfs: &Path) -> String {
    // Everything the child needs is allocated now, before fork: see below.
    let probe = rootfs.join(PROBE_PATH.trim_start_matches('/'));
    let argv = [
        c_string(probe.as_os_str()),
        c_string(OsStr::new("--host-ns")),
        c_string(OsStr::new(&host_namespaces())),
    ];
    let mut argv_pointers: Vec<*const libc::c_char> = argv.iter().map(|arg| arg.as_ptr()).collect();
    argv_pointers.push(std::ptr::null());
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).expect("cannot create a pipe");

    // SAFETY: the test harness runs other threads, and the child gets a copy
    // of their memory but not the threads, so a lock one of them held stays
    // locked for good. The child therefore only makes system calls (isolate's,
    // dup2, write, socket, connect, execv, _exit) on data prepared above. The
    // one exception is a panic in isolate while it is still a todo!(), which
    // catch_unwind stops before it can run the harness's code in the child.
    match unsafe { fork() }.expect("cannot fork") {
        ForkResult::Child => {
            drop(read_end);
            let code = match std::panic::catch_unwind(|| subject::isolate("exercise")) {
                Ok(Ok(())) => exec_probe(&write_end, &argv[0], &argv_pointers),
                Ok(Err(errno)) => {
                    let _ = write(&write_end, errno.desc().as_bytes());
                    ISOLATE_FAILED
                }
                Err(_) => ISOLATE_PANICKED,
            };
            // SAFETY: _exit ends the child without running the parent's
            // atexit handlers or flushing its stdio buffers, which are copies.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(write_end);
            let mut output = String::new();
            File::from(read_end)
                .read_to_string(&mut output)
                .expect("cannot read the child's output");
            match waitpid(child, None).expect("cannot wait for the child") {
                WaitStatus::Exited(_, 0) => output,
                WaitStatus::Exited(_, ISOLATE_FAILED) => {
                    panic!("isolate failed: {output} (run as root?)")
                }
                WaitStatus::Exited(_, ISOLATE_PANICKED) => {
                    panic!("isolate panicked: is its todo!() still there?")
                }
                WaitStatus::Exited(_, EXEC_FAILED) => {
                    panic!("cannot run the probe at {}", probe.display())
                }
                other => panic!("the probe did not finish well: {other:?}\n{output}"),
            }
        }
    }
}

/// In the child: stdout to the pipe, one line about loopback, then the probe.
/// Returns only if something failed.
fn exec_probe(pipe: &OwnedFd, path: &CString, argv: &[*const libc::c_char]) -> i32 {
    if dup2(pipe.as_raw_fd(), libc::STDOUT_FILENO).is_err() {
        return EXEC_FAILED;
    }
    // In a new network namespace lo starts down, and with it 127.0.0.1:
    // connecting a UDP socket (no packet is sent) fails with ENETUNREACH.
    let line: &[u8] = match loopback_reachable() {
        Ok(()) => b"loopback: 127.0.0.1 reachable\n",
        Err(_) => b"loopback: 127.0.0.1 unreachable, lo is down\n",
    };
    if write(pipe, line).is_err() {
        return EXEC_FAILED;
    }
    // SAFETY: path and every element of argv point to NUL-terminated strings
    // that live in the parent's copy of `argv` until exec replaces this
    // process; argv ends with a null pointer, as execv(3) requires.
    unsafe { libc::execv(path.as_ptr(), argv.as_ptr()) };
    EXEC_FAILED
}

fn loopback_reachable() -> nix::Result<()> {
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    connect(sock.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 9))
}

fn c_string(text: &OsStr) -> CString {
    CString::new(text.as_bytes()).expect("paths and namespace ids contain no NUL")
}

/// The loopback line, the hostname and the namespaces section: what
/// `isolate` changes. The rest of the report (mounts, capabilities, cgroup)
/// is the host's, and not this exercise's business.
fn lines_that_matter(report: &str) -> String {
    let mut out = String::new();
    let mut in_namespaces = false;
    for line in report.lines() {
        if !line.starts_with(' ') {
            in_namespaces = line == "namespaces:";
        }
        if in_namespaces || line.starts_with("hostname: ") || line.starts_with("loopback: ") {
            out += line;
            out.push('\n');
        }
    }
    out
}
