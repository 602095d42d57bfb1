//! The cgroup code against the host's real cgroups, as root: the values
//! written are read back from the kernel's files, statistics come from a
//! real process, stale cgroups are cleaned up, and nothing is left behind.
//!
//! On this project's CI host the controllers live in cgroup v1, so these run
//! the v1 implementation; on a host with cgroup v2 controllers (most current
//! distributions, and the VM that scripts/test-vm boots) the same tests run
//! the v2 implementation for real. The first test checks which of the two
//! each controller got.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use cratebox_cgroups::limits::parse_cpus;
use cratebox_cgroups::{
    create, unique_name, AnyCgroup, Cgroup, CgroupError, Hierarchies, Limits, Version, PARENT,
};
use cratebox_testkit::{expected_cgroup_version, require_root, LeakCheck};
use nix::unistd::Pid;

fn dir_of(cgroup: &AnyCgroup, controller: &str) -> PathBuf {
    match cgroup {
        AnyCgroup::V1(v1) => v1.dir(controller).unwrap().to_path_buf(),
        AnyCgroup::V2(v2) => v2.path().to_path_buf(),
        AnyCgroup::Unlimited => panic!("create made no cgroup"),
    }
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_string()
}

/// Limits that need `controller` and no other.
fn one_limit(controller: &str) -> Limits {
    let mut limits = Limits::default();
    match controller {
        "memory" => limits.memory = Some(32 << 20),
        "cpu" => limits.cpus = Some(parse_cpus("0.5").unwrap()),
        "pids" => limits.pids = Some(20),
        "cpuset" => limits.cpuset_cpus = Some("0".to_string()),
        _ => panic!("no limit for {controller}"),
    }
    limits
}

#[test]
fn each_controller_is_used_in_the_version_expected_here() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let leaks = LeakCheck::take();
    // ANCHOR: versions
    let hierarchies = Hierarchies::detect();
    let (mut used, mut expected) = (Vec::new(), Vec::new());
    for controller in ["memory", "cpu", "pids", "cpuset"] {
        let version = match create(&hierarchies, &unique_name(), &one_limit(controller)) {
            Ok(cgroup) => {
                cgroup.remove().unwrap();
                cgroup.version().unwrap().to_string()
            }
            Err(CgroupError::Unavailable { .. }) => "not offered".to_string(),
            Err(error) => panic!("{controller}: {error}"),
        };
        used.push(format!("{controller}: {version}"));
        let wanted = expected_cgroup_version(controller).unwrap_or("not offered");
        expected.push(format!("{controller}: {wanted}"));
    }
    eprintln!("cgroup versions used: {}", used.join(", "));
    assert_eq!(used, expected, "{}", hierarchies.describe());
    // ANCHOR_END: versions
    leaks.assert_nothing_new(&std::env::temp_dir().join("no-such-dir"));
}

#[test]
fn limits_written_to_the_real_cgroup_read_back() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let leaks = LeakCheck::take();
    let limits = Limits {
        memory: Some(32 << 20),
        cpus: Some(parse_cpus("0.5").unwrap()),
        cpu_shares: Some(512),
        pids: Some(20),
        ..Limits::default()
    };
    let cgroup = create(&Hierarchies::detect(), &unique_name(), &limits).unwrap();
    let found: Vec<String> = match cgroup.version().unwrap() {
        Version::V1 => vec![
            read(dir_of(&cgroup, "memory").join("memory.limit_in_bytes")),
            read(dir_of(&cgroup, "cpu").join("cpu.cfs_quota_us")),
            read(dir_of(&cgroup, "cpu").join("cpu.cfs_period_us")),
            read(dir_of(&cgroup, "cpu").join("cpu.shares")),
            read(dir_of(&cgroup, "pids").join("pids.max")),
        ],
        Version::V2 => vec![
            read(dir_of(&cgroup, "memory").join("memory.max")),
            read(dir_of(&cgroup, "cpu").join("cpu.max")),
            read(dir_of(&cgroup, "cpu").join("cpu.weight")),
            read(dir_of(&cgroup, "pids").join("pids.max")),
        ],
    };
    let expected: Vec<&str> = match cgroup.version().unwrap() {
        Version::V1 => vec!["33554432", "50000", "100000", "512", "20"],
        Version::V2 => vec!["33554432", "50000 100000", "20", "20"],
    };
    cgroup.remove().unwrap();
    assert_eq!(found, expected);
    assert!(!dir_of(&cgroup, "memory").exists());
    leaks.assert_nothing_new(&std::env::temp_dir().join("no-such-dir"));
}

#[test]
fn a_real_process_is_counted_and_removed_with_the_cgroup() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let leaks = LeakCheck::take();
    let cgroup = create(
        &Hierarchies::detect(),
        &unique_name(),
        &Limits {
            pids: Some(10),
            collect_stats: true,
            ..Limits::default()
        },
    )
    .unwrap();
    // A process that burns a little CPU once told to, then waits to be
    // killed. It waits for the word until it is in the cgroup: CPU it
    // burned before would be counted elsewhere.
    let mut child = std::process::Command::new("/bin/sh")
        .args([
            "-c",
            "read go; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 60",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    cgroup.add_task(Pid::from_raw(child.id() as i32)).unwrap();
    let mut go = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut go, b"go\n").unwrap();
    // Wait for the cgroup to have counted some of it, however slowly a busy
    // machine runs the loop.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let counted = loop {
        let stats = cgroup.stats();
        if stats.cpu_time.is_some_and(|t| !t.is_zero()) {
            break Ok(stats);
        }
        if std::time::Instant::now() > deadline {
            break Err(stats);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    // remove() kills what is still inside; done before judging, so that a
    // failure leaves nothing behind.
    cgroup.remove().unwrap();
    let status = child.wait().unwrap();
    let stats = counted.unwrap_or_else(|stats| panic!("no CPU time counted: {stats:?}"));
    assert!(stats.pids_peak.unwrap_or(0) >= 1, "{stats:?}");
    assert!(!status.success());
    leaks.assert_nothing_new(&std::env::temp_dir().join("no-such-dir"));
}

#[test]
fn stale_cgroups_of_dead_runs_are_removed_on_the_next_start() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let leaks = LeakCheck::take();
    let hierarchies = Hierarchies::detect();
    // A run that "crashed": its supervisor (a finished process) is gone,
    // its cgroup is still there.
    let mut dead = std::process::Command::new("/bin/true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let stale_name = format!("{dead_pid}-0");
    let with_stats = Limits {
        collect_stats: true,
        ..Limits::default()
    };
    let stale = create(&hierarchies, &stale_name, &with_stats).unwrap();
    let stale_dir = dir_of(&stale, "memory");
    assert!(stale_dir.exists());

    let fresh = create(&hierarchies, &unique_name(), &with_stats).unwrap();
    assert!(!stale_dir.exists(), "{} survived", stale_dir.display());
    assert!(stale_dir.parent().unwrap().ends_with(PARENT));
    fresh.remove().unwrap();
    leaks.assert_nothing_new(&std::env::temp_dir().join("no-such-dir"));
}
