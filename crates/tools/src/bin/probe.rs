//! `probe`: report what a process can see of the machine, from the inside.
//!
//! Run it inside a container and it prints one normalised report: its pid,
//! hostname, user, id maps, which namespaces differ from the host's, the
//! mounts it sees, its capabilities, its seccomp mode and its cgroup. The
//! tests run it in every kind of container cratebox makes and compare the
//! report with an insta snapshot, so a broken isolation shows up as a diff.
//!
//! The probe cannot see the host's namespaces from inside (that is the point
//! of a namespace), so whoever starts it passes them in:
//! `probe --host-ns cgroup=4026531835,ipc=4026531839,...`. Without that flag
//! it prints the raw namespace ids instead.
//!
//! `probe --security` prints chapter 9's report instead: what the process
//! may do rather than what it sees. Its capabilities, no_new_privs and
//! seccomp mode, whether each of the paths docker masks is hidden, and
//! whether each of those it makes read-only (and `/sys` and `/`) is.
//!
//! It uses nothing but `std` (and `statvfs` from the C library): the demo
//! image's build script compiles this file again as a fully static binary,
//! so it runs in an image that has no C library.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, c_ulong, CString};
use std::fs::{self, File};
use std::io::{self, Read};

/// The namespaces Linux shows under `/proc/self/ns`, in the order printed.
const NAMESPACES: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

/// Capability names by bit number, from capability.h. Bits past the end of
/// this list (newer kernels) are ignored, so reports stay comparable.
const CAPABILITIES: [&str; 41] = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

/// The paths docker hides from a container (as chapter 9 does), in its
/// order.
const MASKED: [&str; 11] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// The paths docker makes read-only, then the two a container may mount
/// read-only as a whole: sysfs, and the root with `--read-only`.
const READ_ONLY: [&str; 7] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
    "/sys",
    "/",
];

/// What the command line asks for.
#[derive(Debug, Default)]
struct Options {
    /// `--host-ns`: the host's namespace inodes by name.
    host_ns: Option<BTreeMap<String, String>>,
    /// `--security`: the hardening report instead of the isolation report.
    security: bool,
}

const USAGE: &str = "usage: probe [--host-ns cgroup=INODE,ipc=INODE,...] [--security]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("probe: {message}");
            std::process::exit(2);
        }
    };
    if fs::metadata("/proc/self/status").is_err() {
        println!("proc: not mounted (nothing more to report)");
        return;
    }
    if options.security {
        print!("{}", security_report());
    } else {
        print!("{}", report(options.host_ns.as_ref()));
    }
}

/// `--host-ns name=inode,...` and `--security`, each at most once, in any
/// order. `--security` with `--host-ns` is allowed, so a caller can always
/// pass the host's namespaces; the security report does not use them.
fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--security" if !options.security => options.security = true,
            "--host-ns" if options.host_ns.is_none() => {
                let list = args.next().ok_or(USAGE)?;
                options.host_ns = Some(parse_host_ns(list)?);
            }
            _ => return Err(USAGE.to_string()),
        }
    }
    Ok(options)
}

/// `cgroup=4026531835,ipc=...` → a map from namespace name to inode number.
fn parse_host_ns(list: &str) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    for pair in list.split(',').filter(|p| !p.is_empty()) {
        let (name, inode) = pair
            .split_once('=')
            .ok_or_else(|| format!("bad --host-ns entry {pair:?}: expected name=inode"))?;
        map.insert(name.to_string(), inode.to_string());
    }
    Ok(map)
}

fn report(host_ns: Option<&BTreeMap<String, String>>) -> String {
    let status = read("/proc/self/status");
    let field = |name: &str| status_field(&status, name).unwrap_or_default();
    let mut out = String::new();

    out += &format!("pid: {}\n", std::process::id());
    out += &format!("hostname: {}\n", read("/proc/sys/kernel/hostname").trim());
    let uid = field("Uid")
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .to_string();
    let gid = field("Gid")
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .to_string();
    out += &format!("user: uid={uid} gid={gid}\n");
    out += &format!("uid_map: {}\n", squeeze(&read("/proc/self/uid_map")));
    out += &format!("gid_map: {}\n", squeeze(&read("/proc/self/gid_map")));

    out += "namespaces:\n";
    for name in NAMESPACES {
        let Ok(link) = fs::read_link(format!("/proc/self/ns/{name}")) else {
            continue;
        };
        let link = link.to_string_lossy().into_owned();
        // The link reads like "uts:[4026531838]"; keep the number.
        let inode = link
            .split_once('[')
            .map(|(_, rest)| rest.trim_end_matches(']').to_string())
            .unwrap_or(link);
        let verdict = match host_ns.and_then(|host| host.get(name)) {
            Some(host) if *host == inode => "shared with host".to_string(),
            Some(_) => "own".to_string(),
            None => inode,
        };
        out += &format!("  {name}: {verdict}\n");
    }

    out += "mounts:\n";
    for line in read("/proc/self/mountinfo").lines() {
        if let Some(mount) = describe_mount(line) {
            out += &format!("  {mount}\n");
        }
    }

    out += &capabilities(&status);
    out += &format!("seccomp: {}\n", seccomp_mode(&status));
    out += &format!("no_new_privs: {}\n", field("NoNewPrivs"));
    out += "cgroup:\n";
    for line in read("/proc/self/cgroup").lines() {
        out += &format!("  {line}\n");
    }
    out
}

/// Chapter 9's report: what this process may do, and which of the kernel's
/// files it can reach.
fn security_report() -> String {
    let status = read("/proc/self/status");
    let mut out = capabilities(&status);
    out += &format!(
        "no_new_privs: {}\n",
        status_field(&status, "NoNewPrivs").unwrap_or_default()
    );
    out += &format!("seccomp: {}\n", seccomp_mode(&status));
    out += "masked:\n";
    for path in MASKED {
        out += &format!("  {path}: {}\n", masked_state(path));
    }
    out += "read-only:\n";
    for path in READ_ONLY {
        out += &format!("  {path}: {}\n", read_only_state(path));
    }
    out
}

/// The five capability sets of /proc/self/status, one line each.
fn capabilities(status: &str) -> String {
    let mut out = "capabilities:\n".to_string();
    for (label, key) in [
        ("effective", "CapEff"),
        ("permitted", "CapPrm"),
        ("inheritable", "CapInh"),
        ("bounding", "CapBnd"),
        ("ambient", "CapAmb"),
    ] {
        let mask = status_field(status, key).unwrap_or_default();
        out += &format!("  {label}: {}\n", describe_caps(&mask));
    }
    out
}

/// `Seccomp:` of /proc/self/status in words.
fn seccomp_mode(status: &str) -> &'static str {
    match status_field(status, "Seccomp").as_deref() {
        Some("0") => "disabled",
        Some("1") => "strict",
        Some("2") => "filter",
        _ => "unknown",
    }
}

/// Whether a path docker masks is hidden here: "empty" (a directory with
/// no entries, which is what the empty read-only tmpfs over a masked one
/// shows, or a file that reads nothing, as `/dev/null` bound over it does),
/// "readable" (it shows something), "unreadable" (the kernel refuses to
/// open it, as it refuses `/proc/kcore` without `CAP_SYS_RAWIO`) or
/// "missing" (this kernel has no such file; docker skips those).
fn masked_state(path: &str) -> &'static str {
    let shown = match fs::metadata(path) {
        Err(error) => return error_state(&error),
        Ok(meta) if meta.is_dir() => fs::read_dir(path).map(|mut dir| dir.next().is_some()),
        // One read says whether there is anything: /proc/kcore is as large
        // as the machine's address space.
        Ok(_) => File::open(path).and_then(|mut file| file.read(&mut [0; 64]).map(|n| n > 0)),
    };
    match shown {
        Ok(true) => "readable",
        Ok(false) => "empty",
        Err(error) => error_state(&error),
    }
}

fn error_state(error: &io::Error) -> &'static str {
    match error.kind() {
        io::ErrorKind::NotFound => "missing",
        _ => "unreadable",
    }
}

/// glibc's `struct statvfs` on 64-bit Linux (x86_64 and aarch64 alike).
#[repr(C)]
struct StatVfs {
    f_bsize: c_ulong,
    f_frsize: c_ulong,
    f_blocks: u64,
    f_bfree: u64,
    f_bavail: u64,
    f_files: u64,
    f_ffree: u64,
    f_favail: u64,
    f_fsid: c_ulong,
    f_flag: c_ulong,
    f_namemax: c_ulong,
    f_spare: [c_int; 6],
}
const _: () = assert!(
    std::mem::size_of::<StatVfs>() == 112,
    "64-bit struct statvfs"
);

extern "C" {
    fn statvfs(path: *const c_char, buf: *mut StatVfs) -> c_int;
}

/// Whether the mount `path` is on is read-only: "read-only", "writable" or
/// "missing".
///
/// statvfs(3)'s `ST_RDONLY`, not access(2): for root, `access(W_OK)`
/// answers yes on most read-only file systems' files, and the mount's flag
/// is the one thing that holds for every process. Nor mountinfo: finding
/// which of several stacked mounts covers a path is the kernel's job, and
/// statvfs asks it.
fn read_only_state(path: &str) -> &'static str {
    const ST_RDONLY: c_ulong = 1;
    let path = CString::new(path).expect("the paths in this file have no NUL byte");
    // SAFETY: all zeroes is a valid StatVfs (integers only).
    let mut stat: StatVfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated and `stat` is ours to write; both
    // outlive the call.
    if unsafe { statvfs(path.as_ptr(), &mut stat) } != 0 {
        return error_state(&io::Error::last_os_error());
    }
    if stat.f_flag & ST_RDONLY != 0 {
        "read-only"
    } else {
        "writable"
    }
}

fn read(path: &str) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// The value of `Name:` in /proc/self/status.
fn status_field(status: &str, name: &str) -> Option<String> {
    status.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == name).then(|| value.trim().to_string())
    })
}

/// Collapse the column padding of uid_map lines and join several with "; ".
fn squeeze(map: &str) -> String {
    map.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One mountinfo line as "MOUNTPOINT TYPE OPTIONS", without the parts that
/// change from run to run (mount ids, device numbers, sources).
///
/// mountinfo fields: id parent major:minor root mountpoint options
/// [optional...] - fstype source superoptions
fn describe_mount(line: &str) -> Option<String> {
    let (left, right) = line.split_once(" - ")?;
    let left: Vec<&str> = left.split_whitespace().collect();
    let right: Vec<&str> = right.split_whitespace().collect();
    let mount_point = left.get(4)?;
    let options = left.get(5)?;
    let fstype = right.first()?;
    // Keep the flags that matter for isolation; drop atime flavours.
    let options: Vec<&str> = options
        .split(',')
        .filter(|o| !o.ends_with("atime"))
        .collect();
    Some(format!("{mount_point} {fstype} {}", options.join(",")))
}

/// A capability mask from /proc/self/status as names: "none", "all",
/// "all except a,b" when most are held, else the list of those held.
fn describe_caps(hex: &str) -> String {
    let Ok(mask) = u64::from_str_radix(hex, 16) else {
        return "unknown".to_string();
    };
    let has = |bit: usize| mask & (1 << bit) != 0;
    let held: Vec<&str> = (0..CAPABILITIES.len())
        .filter(|b| has(*b))
        .map(|b| CAPABILITIES[b])
        .collect();
    let missing: Vec<&str> = (0..CAPABILITIES.len())
        .filter(|b| !has(*b))
        .map(|b| CAPABILITIES[b])
        .collect();
    let names = |caps: &[&str]| caps.join(",");
    if held.is_empty() {
        "none".to_string()
    } else if missing.is_empty() {
        "all".to_string()
    } else if held.len() > missing.len() {
        format!("all except {}", names(&missing))
    } else {
        names(&held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn security_goes_with_host_ns_in_either_order() {
        for list in [
            &["--security", "--host-ns", "uts=7"][..],
            &["--host-ns", "uts=7", "--security"][..],
        ] {
            let options = parse_args(&args(list)).expect("a valid command line");
            assert!(options.security);
            let host_ns = options.host_ns.expect("--host-ns was given");
            assert_eq!(host_ns.get("uts").map(String::as_str), Some("7"));
        }
        let plain = parse_args(&[]).expect("no arguments is valid");
        assert!(!plain.security && plain.host_ns.is_none());
    }

    #[test]
    fn repeated_or_unknown_flags_are_usage_errors() {
        for list in [
            &["--security", "--security"][..],
            &["--host-ns"][..],
            &["--host-ns", "uts"][..],
            &["--verbose"][..],
        ] {
            assert!(parse_args(&args(list)).is_err(), "{list:?}");
        }
    }

    #[test]
    fn a_masked_file_reads_empty_and_an_absent_one_is_missing() {
        assert_eq!(masked_state("/dev/null"), "empty");
        assert_eq!(masked_state("/proc/self/status"), "readable");
        assert_eq!(masked_state("/proc/self/no-such-file"), "missing");
        assert_eq!(read_only_state("/proc/self/no-such-file"), "missing");
    }
}
