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
//! It uses nothing but `std` and reads only `/proc`: the demo image's build
//! script compiles this file again as a fully static binary, so it runs in an
//! image that has no C library.

use std::collections::BTreeMap;
use std::fs;

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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let host_ns = match parse_args(&args) {
        Ok(ns) => ns,
        Err(message) => {
            eprintln!("probe: {message}");
            std::process::exit(2);
        }
    };
    if fs::metadata("/proc/self/status").is_err() {
        println!("proc: not mounted (nothing more to report)");
        return;
    }
    print!("{}", report(host_ns.as_ref()));
}

/// `--host-ns name=inode,...` → a map from namespace name to inode number.
fn parse_args(args: &[String]) -> Result<Option<BTreeMap<String, String>>, String> {
    match args {
        [] => Ok(None),
        [flag, list] if flag == "--host-ns" => {
            let mut map = BTreeMap::new();
            for pair in list.split(',').filter(|p| !p.is_empty()) {
                let (name, inode) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("bad --host-ns entry {pair:?}: expected name=inode"))?;
                map.insert(name.to_string(), inode.to_string());
            }
            Ok(Some(map))
        }
        _ => Err("usage: probe [--host-ns cgroup=INODE,ipc=INODE,...]".to_string()),
    }
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

    out += "capabilities:\n";
    for (label, key) in [
        ("effective", "CapEff"),
        ("permitted", "CapPrm"),
        ("inheritable", "CapInh"),
        ("bounding", "CapBnd"),
        ("ambient", "CapAmb"),
    ] {
        out += &format!("  {label}: {}\n", describe_caps(&field(key)));
    }
    let seccomp = match field("Seccomp").as_str() {
        "0" => "disabled",
        "1" => "strict",
        "2" => "filter",
        _ => "unknown",
    };
    out += &format!("seccomp: {seccomp}\n");
    out += &format!("no_new_privs: {}\n", field("NoNewPrivs"));
    out += "cgroup:\n";
    for line in read("/proc/self/cgroup").lines() {
        out += &format!("  {line}\n");
    }
    out
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
