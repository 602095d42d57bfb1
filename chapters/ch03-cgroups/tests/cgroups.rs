//! Chapter 3 run for real: memory, pids and CPU limits enforced by the
//! kernel, as root. Each test checks no cgroup (or anything else) is left.
//!
//! The tests take turns (`one_at_a_time`): each one's leak check looks for any new
//! cratebox cgroup, and a neighbour's running container would be one.

use cratebox_testkit::{require_root, TestEnv, MEMHOG_PATH};

const BIN: &str = env!("CARGO_BIN_EXE_ch03-cgroups");

#[test]
fn memory_hog_is_oom_killed_and_reported() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let out = env.run(BIN, &["-m", "32m", MEMHOG_PATH]);
    assert_eq!(out.code, 137, "{out:?}");
    assert!(
        out.stderr
            .contains("ch03-cgroups: killed: out of memory (limit 32MiB)"),
        "{out:?}"
    );
    // It got close to the limit, and not past it.
    assert!(out.stdout.contains("memhog: 16 MiB"), "{out:?}");
    assert!(!out.stdout.contains("memhog: 32 MiB"), "{out:?}");
    env.finish();
}

#[test]
fn memory_under_the_limit_is_fine() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let out = env.run(BIN, &["-m", "64m", "--stats", MEMHOG_PATH, "16"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("holding 16 MiB, done"), "{out:?}");
    assert!(!out.stderr.contains("out of memory"), "{out:?}");
    env.finish();
}

#[test]
fn fork_bomb_stops_at_the_pids_limit() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let script =
        "bomb() { bomb | bomb & }; bomb; sleep 1; echo processes: $(ls /proc | grep -c '^[0-9]')";
    let out = env.run(BIN, &["--pids-limit", "20", "/bin/sh", "-c", script]);
    assert_eq!(out.code, 0, "{out:?}");
    let count: u32 = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("processes: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no process count: {out:?}"));
    assert!(count <= 20, "{count} processes under a limit of 20");
    assert!(out.stderr.contains("pids limit reached:"), "{out:?}");
    assert!(out.stderr.contains("(limit 20)"), "{out:?}");
    env.finish();
}

#[test]
fn half_a_cpu_is_half_a_cpu() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    // Spin for 3 s of wall time; the cgroup's own CPU accounting says how
    // much CPU time that got.
    let out = env.run(
        BIN,
        &[
            "--cpus",
            "0.5",
            "--stats",
            "timeout",
            "3",
            "/bin/sh",
            "-c",
            "while :; do :; done",
        ],
    );
    let cpu: f64 = out
        .stderr
        .split("cpu ")
        .nth(1)
        .and_then(|rest| rest.split('s').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no cpu time in the stats: {out:?}"));
    let share = cpu / 3.0;
    assert!(
        (0.4..=0.6).contains(&share),
        "used {share:.2} of a CPU, asked for 0.5 ({out:?})"
    );
    env.finish();
}

#[test]
fn inside_the_cgroup_namespace_the_cgroup_is_root() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let out = env.run(
        BIN,
        &[
            "-m",
            "64m",
            "--pids-limit",
            "50",
            "cat",
            "/proc/self/cgroup",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stdout.is_empty());
    for line in out.stdout.lines() {
        assert!(line.ends_with(":/"), "{line} (all: {})", out.stdout);
    }
    env.finish();
}

#[test]
fn exit_codes_and_errors_still_pass_through() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    assert_eq!(
        env.run(BIN, &["-m", "64m", "/bin/sh", "-c", "exit 5"]).code,
        5
    );
    let out = env.run(BIN, &["-m", "64m", "no-such-command"]);
    assert_eq!(out.code, 127, "{out:?}");
    assert!(out.stderr.contains("not found in the container"), "{out:?}");
    env.finish();
}

#[test]
fn bad_values_name_the_flag_and_the_forms() {
    // Refused before anything happens: no root needed.
    let mut errors = Vec::new();
    for args in [
        ["-m", "lots"],
        ["--cpus", "-1"],
        ["--pids-limit", "0"],
        ["--cpu-shares", "1"],
        ["--memory-swap", "forever"],
    ] {
        let out = std::process::Command::new(BIN)
            .args(args)
            .arg("/bin/true")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        errors.push(stderr.lines().next().unwrap_or_default().to_string());
    }
    insta::assert_snapshot!(errors.join("\n"));
}

#[test]
fn swap_without_memory_is_refused() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let out = env.run(BIN, &["--memory-swap", "1g", "/bin/true"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(out.stderr.contains("needs --memory too"), "{out:?}");
    env.finish();
}

#[test]
fn cpuset_pins_the_container_to_the_cpus_asked() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let out = env.run(
        BIN,
        &[
            "--cpuset-cpus",
            "0",
            "--cpu-shares",
            "512",
            "grep",
            "Cpus_allowed_list",
            "/proc/self/status",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.split_whitespace().last(), Some("0"), "{out:?}");
    env.finish();
}

#[test]
fn exit_codes_are_dockers() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    cratebox_testkit::assert_exit_codes(
        &env,
        env!("CARGO_BIN_EXE_ch03-cgroups"),
        &[],
        &["--rootfs", "/nonexistent/rootfs", "true"],
    );
    env.finish();
}
