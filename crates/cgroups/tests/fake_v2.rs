//! cgroup v2 on a fake cgroupfs: a temp directory laid out like
//! /sys/fs/cgroup. The files the v2 implementation writes there are
//! snapshot-tested, so the v2 code is checked on any host; where the host
//! really has v2 controllers, `real.rs` runs it for real as well.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use cratebox_cgroups::detect::V2Mount;
use cratebox_cgroups::limits::{parse_cpus, Swap};
use cratebox_cgroups::{create, Cgroup, Hierarchies, Limits, Version};
use nix::unistd::Pid;

fn fake_root(controllers: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    fs::write(
        root.path().join("cgroup.controllers"),
        format!("{controllers}\n"),
    )
    .unwrap();
    fs::write(root.path().join("cgroup.subtree_control"), "").unwrap();
    root
}

fn hierarchies(root: &Path, controllers: &str) -> Hierarchies {
    Hierarchies {
        v2: Some(V2Mount {
            path: root.to_path_buf(),
            controllers: controllers
                .split_whitespace()
                .map(str::to_string)
                .collect::<BTreeSet<_>>(),
        }),
        v1: BTreeMap::new(),
    }
}

/// Every file under `root` with its content, one per line, sorted.
fn tree(root: &Path) -> String {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let content = fs::read_to_string(&path).unwrap();
                out.push(format!(
                    "{}: {}",
                    path.strip_prefix(root).unwrap().display(),
                    content.trim()
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.join("\n")
}

#[test]
fn v2_writes_every_limit_and_enables_the_controllers() {
    let controllers = "cpuset cpu io memory hugetlb pids";
    let root = fake_root(controllers);
    let limits = Limits {
        memory: Some(32 << 20),
        memory_swap: Some(Swap::Total(64 << 20)),
        cpus: Some(parse_cpus("0.5").unwrap()),
        cpu_shares: Some(1024),
        pids: Some(20),
        cpuset_cpus: Some("0".to_string()),
        collect_stats: false,
    };
    let cgroup = create(&hierarchies(root.path(), controllers), "4242-0", &limits).unwrap();
    assert_eq!(cgroup.version(), Some(Version::V2));
    cgroup.add_task(Pid::from_raw(4242)).unwrap();
    insta::assert_snapshot!(tree(root.path()));
}

#[test]
fn v2_with_stats_but_no_limits_joins_only_the_statistics_controllers() {
    let controllers = "cpuset cpu io memory pids";
    let root = fake_root(controllers);
    create(
        &hierarchies(root.path(), controllers),
        "4242-1",
        &Limits {
            collect_stats: true,
            ..Limits::default()
        },
    )
    .unwrap();
    insta::assert_snapshot!(tree(root.path()), @r"
    cgroup.controllers: cpuset cpu io memory pids
    cgroup.subtree_control: +cpu +memory +pids
    cratebox/cgroup.subtree_control: +cpu +memory +pids
    ");
}

#[test]
fn a_limit_without_its_controller_is_refused_not_ignored() {
    let root = fake_root("cpu io");
    let limits = Limits {
        memory: Some(32 << 20),
        ..Limits::default()
    };
    let error = create(&hierarchies(root.path(), "cpu io"), "4242-2", &limits).unwrap_err();
    insta::assert_snapshot!(error.to_string(), @"--memory needs the memory cgroup controller, which this host does not offer (cgroup v2 with cpu io; no cgroup v1): leave --memory out");
    // Nothing was created.
    assert!(!root.path().join("cratebox").exists());
}

#[test]
fn stats_are_read_from_the_v2_files() {
    let controllers = "cpu memory pids";
    let root = fake_root(controllers);
    let cgroup = create(
        &hierarchies(root.path(), controllers),
        "4242-3",
        &Limits {
            collect_stats: true,
            ..Limits::default()
        },
    )
    .unwrap();
    let dir = root.path().join("cratebox/4242-3");
    fs::write(dir.join("memory.peak"), "33554432\n").unwrap();
    fs::write(
        dir.join("memory.events"),
        "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n",
    )
    .unwrap();
    fs::write(
        dir.join("cpu.stat"),
        "usage_usec 1500000\nuser_usec 1000000\n",
    )
    .unwrap();
    fs::write(dir.join("pids.peak"), "7\n").unwrap();
    fs::write(dir.join("pids.events"), "max 3\n").unwrap();
    let stats = cgroup.stats();
    assert_eq!(stats.oom_kills, 1);
    assert_eq!(stats.pids_limit_hits, 3);
    insta::assert_snapshot!(stats.to_string(), @"memory peak 32MiB, cpu 1.50s, pids peak 7");
}
