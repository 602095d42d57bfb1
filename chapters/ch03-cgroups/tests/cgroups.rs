//! Chapter 3 run for real: memory, pids and CPU limits enforced by the
//! kernel, as root. Each test checks no cgroup (or anything else) is left.
//!
//! The tests take turns (`one_at_a_time`): each one's leak check looks for any new
//! cratebox cgroup, and a neighbour's running container would be one.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use cratebox_cgroups::{Hierarchies, PARENT};
use cratebox_testkit::{expected_cgroup_version, require_root, TestEnv, MEMHOG_PATH};

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
    // Once the bomb holds every slot, the shell itself may fail to fork
    // (for `sleep`, say) and exit 2: whether it does is a race, so the
    // exit code says nothing. What the kernel counted does.
    let script = "bomb() { bomb | bomb & }; bomb; sleep 1";
    let out = env.run(
        BIN,
        &["--pids-limit", "20", "--stats", "/bin/sh", "-c", script],
    );
    assert!(out.stderr.contains("pids limit reached:"), "{out:?}");
    assert!(out.stderr.contains("(limit 20)"), "{out:?}");
    let peak = out
        .stderr
        .lines()
        .find_map(|l| l.split("pids peak ").nth(1))
        .unwrap_or_else(|| panic!("no stats line: {out:?}"))
        .trim()
        .to_string();
    // A kernel without a pids.peak file cannot say; then the refusals
    // above are its word that the limit held.
    if peak != "n/a" {
        let peak: u32 = peak
            .parse()
            .unwrap_or_else(|_| panic!("pids peak {peak:?}"));
        assert!(peak <= 20, "{peak} processes under a limit of 20: {out:?}");
        assert!(
            peak >= 10,
            "the bomb never grew ({peak} processes): {out:?}"
        );
    }
    env.finish();
}

/// Processes descended from `ancestor`, itself included.
fn descendants(ancestor: u32) -> Vec<u32> {
    let mut parent_of = BTreeMap::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // The command name, in parentheses, may hold blanks: count the
        // fields from the last ')' on. The one after the state is the ppid.
        let ppid = fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|stat| {
                let (_, rest) = stat.rsplit_once(')')?;
                rest.split_whitespace().nth(1)?.parse::<u32>().ok()
            });
        if let Some(ppid) = ppid {
            parent_of.insert(pid, ppid);
        }
    }
    let mut found = vec![ancestor];
    let mut grew = true;
    while grew {
        let more: Vec<u32> = parent_of
            .iter()
            .filter(|(pid, ppid)| found.contains(ppid) && !found.contains(pid))
            .map(|(pid, _)| *pid)
            .collect();
        grew = !more.is_empty();
        found.extend(more);
    }
    found
}

/// The host path of `pid`'s cgroup for the cpu controller, if it is one of
/// cratebox's, in the version this host must use for cpu: a run that put
/// it in the other version's tree is not found. The host reads
/// /proc/PID/cgroup from outside the container's cgroup namespace, so it
/// sees the whole path.
fn cpu_cgroup_of(pid: u32, hierarchies: &Hierarchies) -> Option<PathBuf> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let v1 = expected_cgroup_version("cpu")? == "v1";
    let mount = match v1 {
        true => hierarchies.v1.get("cpu")?.clone(),
        false => hierarchies.v2.as_ref()?.path.clone(),
    };
    text.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let this_tree = match v1 {
            true => controllers.split(',').any(|c| c == "cpu"),
            false => controllers.is_empty(),
        };
        let ours = path.starts_with(&format!("/{PARENT}/"));
        (this_tree && ours).then(|| mount.join(path.trim_start_matches('/')))
    })
}

/// A file of the cgroup, trimmed.
fn read(path: PathBuf) -> String {
    fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_string()
}

/// `key`'s number in a flat-keyed file such as cpu.stat.
fn stat(path: PathBuf, key: &str) -> u64 {
    read(path)
        .lines()
        .find_map(|line| line.strip_prefix(key)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in cpu.stat"))
}

/// A run of the chapter's binary, watched from the host. Dropping it ends
/// the container, so that a failed assertion leaves no busy loop behind.
struct Run {
    child: Child,
    hierarchies: Hierarchies,
}

impl Run {
    fn start(env: &TestEnv, args: &[&str]) -> Run {
        let child = env
            .command(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Run {
            child,
            hierarchies: Hierarchies::detect(),
        }
    }

    /// The run's processes that are in a cratebox cgroup, each with that
    /// cgroup's directory for the cpu controller.
    fn in_cgroup(&self) -> Vec<(u32, PathBuf)> {
        descendants(self.child.id())
            .into_iter()
            .filter_map(|pid| cpu_cgroup_of(pid, &self.hierarchies).map(|dir| (pid, dir)))
            .collect()
    }

    /// Kill every process of the run but the supervisor, which then
    /// reports the statistics and removes the cgroup.
    fn end_container(&self) {
        let supervisor = self.child.id();
        for pid in descendants(supervisor)
            .into_iter()
            .filter(|p| *p != supervisor)
        {
            // SAFETY: kill(2) with a pid and a signal number; no memory involved.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.end_container();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_cpu_limit_is_written_to_the_cgroup_and_the_kernel_throttles_to_it() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60);
    let mut run = Run::start(
        &env,
        &[
            "--cpus",
            "0.1",
            "--cpu-shares",
            "512",
            "--stats",
            "/bin/sh",
            "-c",
            "while :; do :; done",
        ],
    );

    // The container's cgroup, found through its process as the host sees it.
    let dir = loop {
        if let Some((_, dir)) = run.in_cgroup().into_iter().next() {
            break dir;
        }
        assert!(run.running(), "the run ended early");
        assert!(
            Instant::now() < deadline,
            "no process of the run in a cgroup"
        );
        std::thread::sleep(Duration::from_millis(10));
    };

    // The limits as the kernel holds them: 0.1 CPU is 10 ms of every
    // 100 ms, and 512 shares are weight 20 in v2's units.
    let v1 = expected_cgroup_version("cpu") == Some("v1");
    let written = match v1 {
        true => [
            read(dir.join("cpu.cfs_quota_us")),
            read(dir.join("cpu.cfs_period_us")),
            read(dir.join("cpu.shares")),
        ]
        .join(" "),
        false => [read(dir.join("cpu.max")), read(dir.join("cpu.weight"))].join(" "),
    };
    let expected = match v1 {
        true => "10000 100000 512",
        false => "10000 100000 20",
    };
    assert_eq!(written, expected, "in {}", dir.display());

    // And the kernel enforces them: the busy loop is throttled once it has
    // used a period's quota. Wait for that rather than for a fixed time: on
    // a busy machine the loop may take a while to get 10 ms in one period
    // (a small quota, so that even a busy machine gives that much). Let it
    // run 2 s at least, so that the CPU time below means something.
    while stat(dir.join("cpu.stat"), "nr_throttled") == 0
        || started.elapsed() < Duration::from_secs(2)
    {
        assert!(run.running(), "the run ended early");
        assert!(
            Instant::now() < deadline,
            "never throttled: {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    run.end_container();
    let status = run.child.wait().unwrap();
    let wall = started.elapsed().as_secs_f64();
    let mut stderr = String::new();
    if let Some(mut pipe) = run.child.stderr.take() {
        pipe.read_to_string(&mut stderr).unwrap();
    }
    assert_eq!(status.code(), Some(137), "{stderr}");
    let cpu: f64 = stderr
        .split("cpu ")
        .nth(1)
        .and_then(|rest| rest.split('s').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no cpu time in the stats: {stderr}"));

    // What the CPU time can say without noise: at least one quota was used
    // (it was throttled), and no more than the quota allows over the whole
    // run; a busy machine only lowers it. The kernel checks the quota at
    // each tick, so a period may overrun by a tick (10 ms at HZ=100, the
    // coarsest), and the run may touch one period more than its length
    // holds: (10 wall + 1) periods of at most 10 + 10 ms, and 30 ms for
    // rounding. A loop without the limit would take a whole CPU, on a
    // machine quiet enough to give one.
    assert!(cpu >= 0.01, "throttled after {cpu:.3}s of CPU");
    let most = (10.0 * wall + 1.0) * 0.020 + 0.03;
    assert!(
        cpu <= most,
        "{cpu:.2}s of CPU in {wall:.2}s under --cpus 0.1, more than {most:.2}s"
    );
    drop(run);
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
    cratebox_testkit::check_exit_codes(
        env!("CARGO_BIN_EXE_ch03-cgroups"),
        &[],
        &["--rootfs", "/nonexistent/rootfs", "true"],
    );
}
