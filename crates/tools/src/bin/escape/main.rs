//! `escape`: try, one by one, what root inside a container would do to own
//! the host, and say what the kernel answered.
//!
//! Namespaces change what a process *sees*; they do not change what root
//! may *do*. Without a user namespace the container's root is the host's
//! root, on the host's one kernel, and the kernel lets it load modules, read
//! the host's memory, set the host's clock. Chapter 9's hardening takes
//! those powers away again, each with one of docker's defences:
//!
//! | name       | the attempt                          | what stops it in docker                      |
//! |------------|--------------------------------------|----------------------------------------------|
//! | mount      | mount a tmpfs                        | capabilities (no `CAP_SYS_ADMIN`), seccomp   |
//! | module     | `init_module`                        | capabilities (`CAP_SYS_MODULE`), seccomp     |
//! | sysrq      | open `/proc/sysrq-trigger` to write  | read-only path                               |
//! | kcore      | read `/proc/kcore`                   | masked path (and `CAP_SYS_RAWIO`)            |
//! | keyctl     | look up the session keyring          | seccomp: keyrings are not namespaced         |
//! | ptrace     | `PTRACE_SEIZE` pid 1                 | capabilities (`CAP_SYS_PTRACE`)¹             |
//! | userns     | `unshare(CLONE_NEWUSER)`             | seccomp (allowed only with `CAP_SYS_ADMIN`)  |
//! | raw-socket | `socket(AF_INET, SOCK_RAW)`          | nothing: docker keeps `CAP_NET_RAW` for ping |
//! | mknod      | make a disk's node and read it       | device cgroup (docker keeps `CAP_MKNOD`)     |
//! | time       | `adjtimex(ADJ_TICK)`                 | capabilities (`CAP_SYS_TIME`)                |
//! | reboot     | `reboot(2)`                          | capabilities (`CAP_SYS_BOOT`), seccomp       |
//! | bpf        | load a BPF program                   | seccomp, capabilities (`CAP_BPF`)            |
//! | cgroup     | open `cgroup.procs` to write         | `/sys/fs/cgroup` mounted read-only           |
//!
//! ¹ Only a process that holds more than the tracer (cratebox's init keeps
//! every capability) or is marked non-dumpable needs `CAP_SYS_PTRACE`;
//! docker's seccomp profile allows ptrace itself on kernels since 4.8.
//!
//! `escape` runs them all, `escape NAME...` only those, `escape --list`
//! prints the names. One line per attempt: `refused` or `ALLOWED`, what was
//! tried, and what the kernel said. Exit status: 0 when every attempt was
//! refused, 1 when any was allowed, 2 on a usage error.
//!
//! Every attempt is safe when it succeeds, because the tests also run this
//! in a `--privileged` container: what it makes (a mount, a device node, a
//! BPF program, a user namespace) it removes again, it opens files for
//! writing but never writes, and where the call itself would change the
//! machine it passes an argument the kernel rejects *after* its permission
//! check. The answer then tells which side of that check we are on: `EPERM`
//! is the check, any other error is the argument.
//!
//! The attempts live in two files: `calls.rs`, those that are one system
//! call, which capabilities and seccomp stop, and `files.rs`, those that go
//! through the kernel's files and a device node, which masked and read-only
//! paths and the device cgroup stop; `sys.rs` declares what they need of
//! the C library.
//!
//! Only `std`, and the C library it links: the demo image's build script
//! compiles these files as a static binary.

mod calls;
mod files;
mod sys;

use std::ffi::{c_long, CString};
use std::io;
use std::process::exit;

use calls::{
    load_bpf, load_module, make_user_namespace, mount_tmpfs, open_raw_socket, reboot_machine,
    set_clock, trace_init, use_keyrings,
};
use files::{open_cgroup_procs, open_sysrq, read_disk, read_kcore};

/// One thing to try: its command-line name, what it is in words, and the
/// function that tries it.
struct Attempt {
    name: &'static str,
    what: &'static str,
    run: fn() -> Outcome,
}

/// In the order `escape` tries them.
const ATTEMPTS: [Attempt; 13] = [
    attempt("mount", "mount a file system", mount_tmpfs),
    attempt("module", "load a kernel module", load_module),
    attempt("sysrq", "write sysrq-trigger", open_sysrq),
    attempt("kcore", "read /proc/kcore", read_kcore),
    attempt("keyctl", "use the kernel keyrings", use_keyrings),
    attempt("ptrace", "trace pid 1", trace_init),
    attempt("userns", "make a user namespace", make_user_namespace),
    attempt("raw-socket", "open a raw socket", open_raw_socket),
    attempt("mknod", "read a disk directly", read_disk),
    attempt("time", "set the clock", set_clock),
    attempt("reboot", "reboot the machine", reboot_machine),
    attempt("bpf", "load a BPF program", load_bpf),
    attempt("cgroup", "write cgroup files", open_cgroup_procs),
];

const fn attempt(name: &'static str, what: &'static str, run: fn() -> Outcome) -> Attempt {
    Attempt { name, what, run }
}

/// Columns of the report: `refused` and `ALLOWED` are 7 wide, the longest
/// description 23.
const VERDICT_WIDTH: usize = 10;
const WHAT_WIDTH: usize = 26;

/// What one attempt came to.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    allowed: bool,
    /// What was called and what the kernel answered.
    detail: String,
}

fn allowed(detail: String) -> Outcome {
    Outcome {
        allowed: true,
        detail,
    }
}

fn refused(detail: String) -> Outcome {
    Outcome {
        allowed: false,
        detail,
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Choice {
    /// Run the attempts of these names.
    Run(Vec<&'static str>),
    List,
    Help,
}

const USAGE: &str = "usage: escape [NAME]... | --list";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names = match choose(&args) {
        Ok(Choice::Run(names)) => names,
        Ok(Choice::List) => {
            ATTEMPTS.iter().for_each(|a| println!("{}", a.name));
            return;
        }
        Ok(Choice::Help) => {
            println!("{USAGE}\ntry what a container's root would do to own the host");
            return;
        }
        Err(message) => {
            eprintln!("escape: {message}");
            exit(2);
        }
    };
    let mut any_allowed = false;
    for attempt in ATTEMPTS.iter().filter(|a| names.contains(&a.name)) {
        let outcome = (attempt.run)();
        any_allowed |= outcome.allowed;
        println!("{}", line(attempt.what, &outcome));
    }
    exit(i32::from(any_allowed));
}

/// The attempts the arguments name (all of them when none), each once, in
/// the table's order, so every report reads in the same order.
fn choose(args: &[String]) -> Result<Choice, String> {
    match args {
        [] => return Ok(Choice::Run(ATTEMPTS.iter().map(|a| a.name).collect())),
        [flag] if flag == "--list" => return Ok(Choice::List),
        [flag] if flag == "-h" || flag == "--help" => return Ok(Choice::Help),
        _ => {}
    }
    if let Some(unknown) = args
        .iter()
        .find(|arg| ATTEMPTS.iter().all(|a| a.name != *arg))
    {
        return Err(format!(
            "no attempt called {unknown:?} (`escape --list` names them)\n{USAGE}"
        ));
    }
    let names = ATTEMPTS.iter().map(|a| a.name);
    Ok(Choice::Run(
        names
            .filter(|name| args.iter().any(|arg| arg == name))
            .collect(),
    ))
}

/// One aligned report line.
fn line(what: &str, outcome: &Outcome) -> String {
    let verdict = if outcome.allowed {
        "ALLOWED"
    } else {
        "refused"
    };
    format!(
        "{verdict:<VERDICT_WIDTH$}{what:<WHAT_WIDTH$}{}",
        outcome.detail
    )
}

/// "Operation not permitted (EPERM)": the C library's text and the errno's
/// name, which is what the man pages and the kernel's source call it.
fn explain(error: &io::Error) -> String {
    let Some(code) = error.raw_os_error() else {
        return error.to_string();
    };
    let text = error.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    format!("{text} ({})", errno_name(code))
}

/// The errno names these attempts can meet. The numbers are the same on
/// x86_64 and aarch64 (both use the kernel's generic errno.h).
fn errno_name(code: i32) -> String {
    let name = match code {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        3 => "ESRCH",
        5 => "EIO",
        6 => "ENXIO",
        8 => "ENOEXEC",
        12 => "ENOMEM",
        EACCES => "EACCES",
        16 => "EBUSY",
        17 => "EEXIST",
        19 => "ENODEV",
        20 => "ENOTDIR",
        22 => "EINVAL",
        28 => "ENOSPC",
        30 => "EROFS",
        ENOSYS => "ENOSYS",
        87 => "EUSERS",
        93 => "EPROTONOSUPPORT",
        95 => "EOPNOTSUPP",
        97 => "EAFNOSUPPORT",
        126 => "ENOKEY",
        _ => return format!("errno {code}"),
    };
    name.to_string()
}

const EPERM: i32 = 1;
const ENOENT: i32 = 2;
const EACCES: i32 = 13;
const ENOSYS: i32 = 38;

/// For a call made with an argument the kernel rejects after its
/// permission check: which side of the check did the answer come from?
/// `EPERM` is the check (or a seccomp filter, which answers `EPERM` too),
/// `EACCES` a security module, `ENOSYS` a kernel or filter without the call.
fn past_the_check(call: &str, error: &io::Error) -> Outcome {
    match error.raw_os_error() {
        Some(EPERM | EACCES | ENOSYS) => refused(format!("{call}: {}", explain(error))),
        _ => allowed(format!(
            "{call}: passed the permission check ({})",
            error.raw_os_error().map_or("?".to_string(), errno_name)
        )),
    }
}

/// A C string for a path this program spells out, which has no NUL byte.
fn c_path(path: &str) -> CString {
    CString::new(path).expect("the paths in this program have no NUL byte")
}

/// `-1` from a C call as the errno it set, anything else as success.
fn check(result: c_long) -> io::Result<c_long> {
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines_line_up() {
        let outcome = refused("mount tmpfs on /tmp/x: Operation not permitted (EPERM)".into());
        assert_eq!(
            line("mount a file system", &outcome),
            "refused   mount a file system       mount tmpfs on /tmp/x: Operation not permitted (EPERM)"
        );
        let outcome = allowed("init_module: passed the permission check (ENOEXEC)".into());
        assert_eq!(
            line("load a kernel module", &outcome),
            "ALLOWED   load a kernel module      init_module: passed the permission check (ENOEXEC)"
        );
    }

    #[test]
    fn every_description_fits_its_column_and_every_name_is_unique() {
        for (i, attempt) in ATTEMPTS.iter().enumerate() {
            // Two spaces at least before the detail.
            assert!(attempt.what.len() <= WHAT_WIDTH - 2, "{}", attempt.what);
            assert!(
                ATTEMPTS[..i].iter().all(|a| a.name != attempt.name),
                "{} twice",
                attempt.name
            );
        }
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn no_names_chooses_every_attempt() {
        let Ok(Choice::Run(names)) = choose(&[]) else {
            panic!("no arguments should run every attempt");
        };
        assert_eq!(names.len(), ATTEMPTS.len());
    }

    #[test]
    fn names_choose_those_attempts_and_unknown_ones_are_usage_errors() {
        assert_eq!(
            choose(&args(&["reboot", "raw-socket", "reboot"])),
            Ok(Choice::Run(vec!["raw-socket", "reboot"]))
        );
        assert_eq!(choose(&args(&["--list"])), Ok(Choice::List));
        let error = choose(&args(&["mount", "rootkit"])).unwrap_err();
        assert!(error.contains("\"rootkit\""), "{error}");
        assert!(choose(&args(&["--list", "mount"])).is_err());
    }

    #[test]
    fn errors_read_with_their_errno_name() {
        assert_eq!(
            explain(&io::Error::from_raw_os_error(EPERM)),
            "Operation not permitted (EPERM)"
        );
        assert_eq!(errno_name(4095), "errno 4095");
    }

    #[test]
    fn only_a_permission_answer_counts_as_refused() {
        let eperm = io::Error::from_raw_os_error(EPERM);
        let einval = io::Error::from_raw_os_error(22);
        assert!(!past_the_check("reboot", &eperm).allowed);
        assert_eq!(
            past_the_check("reboot", &einval),
            allowed("reboot: passed the permission check (EINVAL)".to_string())
        );
    }
}
