//! Containers that live on: `run -d` under a supervisor, then `ps`,
//! `logs`, `exec`, `stop`, `kill`, `wait`, `rm`, on the demo image, as
//! root. Each test checks that it left no mount, cgroup, process or
//! supervisor behind; they take turns, since each one's leak check would
//! see the others' containers.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{eventually, ok, run, setup, BIN};
use cratebox_testkit::TestEnv;

/// One field of `inspect CONTAINER`, as JSON.
fn inspect(env: &TestEnv, container: &str) -> serde_json::Value {
    let text = ok(env, &["inspect", container]);
    let list: serde_json::Value = serde_json::from_str(&text).unwrap();
    list[0].clone()
}

/// The container's record as the supervisor wrote it.
fn record(env: &TestEnv, id: &str) -> serde_json::Value {
    let path = env
        .state_root()
        .join("containers")
        .join(id)
        .join("container.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn kill(pid: u64, signal: i32) {
    // SAFETY: kill(2) with a pid and a signal number touches no memory.
    assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0, "kill {pid}");
}

fn containers_dir_is_empty(root: &Path) -> bool {
    std::fs::read_dir(root.join("containers"))
        .unwrap()
        .flatten()
        .all(|entry| entry.file_name().to_string_lossy().starts_with('.'))
}

#[test]
fn three_in_the_background_stopped_as_docker_stops_them() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    // sleep dies of SIGTERM (143); a shell that ignores it is killed after
    // -t (137); a shell with a trap says goodbye and exits 0.
    let plain = ok(
        &env,
        &["run", "-d", "--name", "plain", "demo", "sleep", "1000"],
    );
    assert_eq!(plain.trim().len(), 64, "run -d prints the full id: {plain}");
    ok(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "deaf",
            "demo",
            "sh",
            "-c",
            "trap '' TERM; echo deaf started; while true; do sleep 0.1; done",
        ],
    );
    ok(
        &env,
        &[
            "run", "-d", "--name", "polite", "demo", "sh", "-c",
            "trap 'echo got TERM; exit 0' TERM; echo polite started; while true; do sleep 0.1; done",
        ],
    );
    let ps = ok(&env, &["ps"]);
    for name in ["plain", "deaf", "polite"] {
        let line = ps
            .lines()
            .find(|l| l.ends_with(name))
            .unwrap_or_else(|| panic!("{name} in ps:\n{ps}"));
        assert!(line.contains(" Up "), "{line}");
    }
    assert_eq!(ok(&env, &["ps", "-q"]).lines().count(), 3);
    eventually("both shells print", || {
        ok(&env, &["logs", "deaf"]).contains("deaf started")
            && ok(&env, &["logs", "polite"]).contains("polite started")
    });

    ok(&env, &["stop", "plain"]);
    let started = Instant::now();
    ok(&env, &["stop", "-t", "1", "deaf"]);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "stop waited for -t"
    );
    ok(&env, &["stop", "polite"]);
    for (name, code) in [("plain", 143), ("deaf", 137), ("polite", 0)] {
        assert_eq!(inspect(&env, name)["State"]["ExitCode"], code, "{name}");
        assert_eq!(inspect(&env, name)["State"]["Status"], "exited", "{name}");
    }
    assert!(ok(&env, &["logs", "polite"]).contains("got TERM"));
    let all = ok(&env, &["ps", "-a", "--filter", "status=exited"]);
    assert!(
        all.contains("Exited (143)") && all.contains("Exited (137)"),
        "{all}"
    );
    assert_eq!(ok(&env, &["ps", "-q"]).lines().count(), 0);
    // Stopping a stopped container changes nothing, as in docker.
    ok(&env, &["stop", "plain"]);
    ok(&env, &["rm", "plain", "deaf", "polite"]);
    assert!(containers_dir_is_empty(env.state_root()));
    env.finish();
}

#[test]
fn logs_follow_until_the_container_ends() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    ok(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "counter",
            "demo",
            "sh",
            "-c",
            "echo first; echo oops >&2; sleep 1; for i in 1 2 3; do echo line $i; sleep 0.2; done",
        ],
    );
    eventually("the first line", || {
        ok(&env, &["logs", "counter"]).contains("first")
    });
    // -f prints what is there, then what comes, and ends with the container.
    let follow = env
        .command(BIN)
        .args(["logs", "-f", "counter"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(follow.status.success());
    assert_eq!(
        String::from_utf8_lossy(&follow.stdout),
        "first\nline 1\nline 2\nline 3\n"
    );
    assert_eq!(String::from_utf8_lossy(&follow.stderr), "oops\n");
    assert_eq!(
        ok(&env, &["logs", "--tail", "2", "counter"]),
        "line 2\nline 3\n"
    );
    let stamped = ok(&env, &["logs", "-t", "--tail", "1", "counter"]);
    assert!(
        stamped.starts_with("20") && stamped.ends_with("Z line 3\n"),
        "{stamped}"
    );
    assert_eq!(
        ok(&env, &["logs", "--since", "1h", "counter"])
            .lines()
            .count(),
        4
    );
    // The log file is docker's json-file.
    let id = inspect(&env, "counter")["Id"].as_str().unwrap().to_string();
    let log = std::fs::read_to_string(
        env.state_root()
            .join("containers")
            .join(&id)
            .join(format!("{id}-json.log")),
    )
    .unwrap();
    let first: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(first["log"], "first\n");
    assert_eq!(first["stream"], "stdout");
    assert!(first["time"].as_str().unwrap().ends_with('Z'));
    ok(&env, &["rm", "counter"]);
    env.finish();
}

#[test]
fn exec_sees_the_container_not_the_host() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    ok(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "box",
            "--hostname",
            "inside",
            "-e",
            "MODE=run",
            "-w",
            "/tmp",
            "--pids-limit",
            "20",
            "demo",
            "sleep",
            "1000",
        ],
    );
    // Its processes: init (1), sleep (2), and ourselves; none of the host's.
    let ps = ok(&env, &["exec", "box", "ps", "-o", "pid,args"]);
    let pids: Vec<u32> = ps
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    assert!(pids.contains(&1) && pids.contains(&2), "{ps}");
    assert!(
        pids.iter().all(|&p| p < 10),
        "only the container's processes: {ps}"
    );
    assert!(ps.contains("sleep 1000"), "{ps}");
    let seen = ok(
        &env,
        &[
            "exec",
            "box",
            "sh",
            "-c",
            "hostname; pwd; echo $MODE; ls /proc/1/root/ | grep -c . ; cat /proc/self/cgroup",
        ],
    );
    let mut lines = seen.lines();
    assert_eq!(lines.next(), Some("inside"));
    assert_eq!(lines.next(), Some("/tmp"));
    assert_eq!(lines.next(), Some("run"));
    // Its cgroup namespace: every hierarchy shows "/".
    assert!(seen.lines().skip(4).all(|l| l.ends_with(":/")), "{seen}");
    // The flags override the container's settings; the exit code passes.
    assert_eq!(
        ok(
            &env,
            &[
                "exec",
                "-e",
                "MODE=exec",
                "-w",
                "/",
                "box",
                "sh",
                "-c",
                "echo $MODE; pwd"
            ]
        ),
        "exec\n/\n"
    );
    assert_eq!(run(&env, &["exec", "box", "sh", "-c", "exit 7"]).code, 7);
    let missing = run(&env, &["exec", "box", "no-such-program"]);
    assert_eq!(missing.code, 127, "{missing:?}");
    // A fork bomb in exec meets the container's --pids-limit.
    let bomb = run(
        &env,
        &[
            "exec",
            "box",
            "sh",
            "-c",
            "for i in $(seq 40); do sleep 5 & done; wait",
        ],
    );
    assert!(
        bomb.stderr.contains("can't fork")
            || bomb.stderr.contains("Resource temporarily unavailable"),
        "{bomb:?}"
    );
    // exec -d returns at once; the command runs on, adopted by init.
    ok(
        &env,
        &[
            "exec",
            "-d",
            "box",
            "sh",
            "-c",
            "echo detached > /tmp/mark; sleep 1000",
        ],
    );
    eventually("the detached exec ran", || {
        run(&env, &["exec", "box", "cat", "/tmp/mark"]).stdout == "detached\n"
    });
    ok(&env, &["stop", "-t", "1", "box"]);
    let stopped = run(&env, &["exec", "box", "true"]);
    assert_eq!(stopped.code, 1);
    assert!(stopped.stderr.contains("box is not running"), "{stopped:?}");
    ok(&env, &["rm", "box"]);
    env.finish();
}

#[test]
fn errors_are_one_line_with_dockers_exit_codes() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    ok(
        &env,
        &["run", "-d", "--name", "web", "demo", "sleep", "1000"],
    );
    let taken = run(&env, &["run", "-d", "--name", "web", "demo", "true"]);
    assert_eq!(taken.code, 125);
    assert!(taken.stderr.contains("already used"), "{taken:?}");
    let busy = run(&env, &["rm", "web"]);
    assert_eq!(busy.code, 1);
    assert!(busy.stderr.contains("rm -f"), "{busy:?}");
    let unknown = run(&env, &["stop", "nope"]);
    assert_eq!(unknown.code, 1);
    assert!(unknown.stderr.contains("no container nope"), "{unknown:?}");
    let not_found = run(&env, &["run", "-d", "demo", "no-such-program"]);
    assert_eq!(not_found.code, 127, "{not_found:?}");
    assert_eq!(not_found.stderr.lines().count(), 1, "{not_found:?}");
    let bad_signal = run(&env, &["kill", "-s", "NOPE", "web"]);
    assert_eq!(bad_signal.code, 1);
    let conflict = run(
        &env,
        &["run", "--rm", "--restart", "always", "demo", "true"],
    );
    assert_eq!(conflict.code, 125);
    // An id prefix finds one container, or says it is ambiguous. Of 17
    // ids, two share their first hex digit (there are 16): always.
    let ids: Vec<String> = (0..17)
        .map(|_| ok(&env, &["create", "demo", "true"]).trim().to_string())
        .collect();
    let shared = ids
        .iter()
        .find_map(|a| {
            ids.iter()
                .find(|b| *b != a && a[..1] == b[..1])
                .map(|_| a[..1].to_string())
        })
        .unwrap();
    let ambiguous = run(&env, &["inspect", &shared]);
    assert_ne!(ambiguous.code, 0);
    assert_eq!(inspect(&env, &ids[0][..12])["Id"], ids[0].as_str());
    // rename: to a free name, not to a taken one.
    ok(&env, &["rename", "web", "site"]);
    assert!(ok(&env, &["ps"]).lines().any(|l| l.ends_with(" site")));
    ok(&env, &["create", "--name", "other", "demo", "true"]);
    let clash = run(&env, &["rename", "other", "site"]);
    assert_eq!(clash.code, 1);
    assert!(clash.stderr.contains("already used"), "{clash:?}");
    ok(&env, &["rm", "-f", "site", "other"]);
    // The ones made for the prefixes, and the one whose command was not
    // found, under the heading.
    let pruned = ok(&env, &["container", "prune"]);
    assert_eq!(pruned.lines().count(), 1 + ids.len() + 1, "{pruned}");
    assert!(containers_dir_is_empty(env.state_root()));
    env.finish();
}

#[test]
fn twenty_runs_racing_for_one_name_make_one_container() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let children: Vec<_> = (0..20)
        .map(|_| {
            env.command(BIN)
                .args(["run", "-d", "--name", "only", "demo", "sleep", "1000"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|mut c| c.wait().unwrap().code().unwrap())
        .collect();
    assert_eq!(codes.iter().filter(|&&c| c == 0).count(), 1, "{codes:?}");
    assert!(codes.iter().all(|&c| c == 0 || c == 125), "{codes:?}");
    assert_eq!(ok(&env, &["ps", "-aq"]).lines().count(), 1);
    ok(&env, &["rm", "-f", "only"]);
    env.finish();
}

#[test]
fn faults_a_killed_supervisor_a_killed_init_restarts_and_a_reboot() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    // The supervisor killed: the container goes with it (its init has
    // PDEATHSIG), ps says it exited with an unknown code, rm cleans up
    // (the cgroup included: finish checks).
    let id = ok(
        &env,
        &["run", "-d", "--name", "orphan", "demo", "sleep", "1000"],
    );
    let supervisor = record(&env, id.trim())["status"]["pid"].as_u64().unwrap();
    kill(supervisor, libc::SIGKILL);
    eventually("ps shows it exited", || {
        ok(&env, &["ps", "-a"])
            .lines()
            .any(|l| l.contains("Exited (unknown)") && l.ends_with("orphan"))
    });
    ok(&env, &["rm", "orphan"]);

    // The container's init killed: 137, as the OOM killer's SIGKILL reads.
    ok(
        &env,
        &["run", "-d", "--name", "victim", "demo", "sleep", "1000"],
    );
    let init = inspect(&env, "victim")["State"]["Pid"].as_u64().unwrap();
    assert!(init > 1);
    kill(init, libc::SIGKILL);
    assert_eq!(ok(&env, &["wait", "victim"]), "137\n");
    ok(&env, &["rm", "victim"]);

    // --restart on-failure:2 runs it three times in all, then gives up.
    ok(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "flaky",
            "--restart",
            "on-failure:2",
            "demo",
            "sh",
            "-c",
            "echo try; exit 3",
        ],
    );
    assert_eq!(ok(&env, &["wait", "flaky"]), "3\n");
    let flaky = inspect(&env, "flaky");
    assert_eq!(flaky["RestartCount"], 2);
    assert_eq!(ok(&env, &["logs", "flaky"]), "try\ntry\ntry\n");
    // --restart always, then stop: stopped for good.
    ok(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "always",
            "--restart",
            "always",
            "demo",
            "sh",
            "-c",
            "sleep 0.2",
        ],
    );
    eventually("a restart", || {
        inspect(&env, "always")["RestartCount"].as_u64().unwrap() >= 1
    });
    ok(&env, &["stop", "always"]);
    assert_eq!(inspect(&env, "always")["State"]["Status"], "exited");

    // A record from before a reboot: a supervisor and init that were
    // another boot's. Nothing is signalled, nothing is stuck.
    let id = ok(
        &env,
        &["create", "--name", "rebooted", "demo", "sleep", "1000"],
    );
    let path = env
        .state_root()
        .join("containers")
        .join(id.trim())
        .join("container.json");
    let mut stale = record(&env, id.trim());
    let ghost =
        serde_json::json!({"pid": 1, "start": 1, "boot": "00000000-0000-0000-0000-000000000000"});
    stale["status"] = serde_json::json!({"state": "running", "pid": 1});
    stale["state"]["supervisor"] = ghost.clone();
    stale["state"]["init"] = ghost;
    std::fs::write(&path, serde_json::to_string(&stale).unwrap()).unwrap();
    assert!(ok(&env, &["ps", "-a"])
        .lines()
        .any(|l| l.contains("Exited (unknown)") && l.ends_with("rebooted")));
    ok(&env, &["start", "rebooted"]);
    assert_eq!(inspect(&env, "rebooted")["State"]["Status"], "running");
    ok(&env, &["rm", "-f", "rebooted", "flaky", "always"]);
    assert!(containers_dir_is_empty(env.state_root()));
    env.finish();
}

#[test]
fn two_hundred_cycles_and_twenty_at_once_leave_nothing() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    for i in 0..200 {
        let name = format!("cycle{i}");
        ok(
            &env,
            &["run", "-d", "--name", &name, "demo", "sleep", "1000"],
        );
        ok(&env, &["stop", "-t", "1", &name]);
        ok(&env, &["rm", &name]);
    }
    let names: Vec<String> = (0..20).map(|i| format!("many{i}")).collect();
    for name in &names {
        ok(
            &env,
            &["run", "-d", "--name", name, "demo", "sleep", "1000"],
        );
    }
    assert_eq!(ok(&env, &["ps", "-q"]).lines().count(), 20);
    let mut rm = vec!["rm", "-f"];
    rm.extend(names.iter().map(String::as_str));
    ok(&env, &rm);
    assert!(containers_dir_is_empty(env.state_root()));
    // No lock or log left beside them, and no process: finish checks the
    // rest (mounts, cgroups, supervisors).
    let left: Vec<_> = std::fs::read_dir(env.state_root().join("containers"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.iter().all(|n| n == ".lock"), "{left:?}");
    env.finish();
}

#[test]
fn the_foreground_run_logs_too_and_keeps_the_exit_code() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let out = run(
        &env,
        &[
            "run",
            "--name",
            "fg",
            "demo",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 4",
        ],
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (4, "out\n", "err\n")
    );
    assert_eq!(ok(&env, &["logs", "fg"]), "out\n");
    // start -a runs it again here.
    let again = run(&env, &["start", "-a", "fg"]);
    assert_eq!(again.code, 4);
    assert_eq!(ok(&env, &["logs", "fg"]), "out\nout\n");
    // -i passes stdin on; without it, stdin is empty.
    let mut child = env
        .command(BIN)
        .args(["run", "--rm", "-i", "demo", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"typed\n").unwrap();
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "typed\n");
    let closed = env
        .command(BIN)
        .args(["run", "--rm", "demo", "cat"])
        .stdin(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(closed.stdout, b"");
    ok(&env, &["rm", "fg"]);
    env.finish();
}

/// A line of /proc/PID/status, in KiB.
fn status_kib(pid: u64, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field}: {status}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn while_it_runs_the_supervisor_is_the_small_pump() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let id = ok(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "idle",
            "demo",
            "sh",
            "-c",
            "echo up; sleep 1000",
        ],
    );
    let init = inspect(&env, "idle")["State"]["Pid"].as_u64().unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{init}/stat")).unwrap();
    let parent: u64 = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    // The init's parent is the supervisor, under its own name now: the
    // full program became the pump with execve, pid and children kept.
    let supervisor = record(&env, id.trim())["state"]["supervisor"]["pid"]
        .as_u64()
        .unwrap();
    assert_eq!(parent, supervisor);
    let comm = std::fs::read_to_string(format!("/proc/{supervisor}/comm")).unwrap();
    assert_eq!(comm.trim(), "cratebox-pump");
    eventually("the pump logs", || ok(&env, &["logs", "idle"]) == "up\n");
    // The figure the book gives: under 1 MiB resident (conmon: about 2).
    let rss = status_kib(supervisor, "VmRSS");
    assert!(rss < 1024, "the pump holds {rss} KiB");
    // The end of the run brings the full program back, which records it.
    kill(init, libc::SIGKILL);
    eventually("exit recorded", || {
        inspect(&env, "idle")["State"]["Status"] == "exited"
    });
    assert_eq!(inspect(&env, "idle")["State"]["ExitCode"], 137);
    ok(&env, &["rm", "idle"]);
    env.finish();
}

#[test]
fn attach_feeds_the_stdin_of_a_container_run_with_i_alone() {
    use std::io::Write;
    let Some((_turn, env)) = setup() else {
        return;
    };
    // -i without -t: the container's stdin is a pipe the pump holds.
    ok(&env, &["run", "-di", "--name", "reader", "demo", "cat"]);
    let mut client = std::process::Command::new(BIN)
        .args(["attach", "reader"])
        .env("CRATEBOX_ROOT", env.state_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut keys = client.stdin.take().unwrap();
    // The client may not be connected yet: say it until cat has heard.
    eventually("cat echoes what attach sent", || {
        let _ = keys.write_all(b"hello\n");
        std::thread::sleep(Duration::from_millis(50));
        ok(&env, &["logs", "reader"]).contains("hello\n")
    });
    client.kill().unwrap();
    client.wait().unwrap();
    // Without -i, keys go nowhere: cat reads /dev/null and ends at once.
    ok(&env, &["run", "-d", "--name", "deaf", "demo", "cat"]);
    assert_eq!(ok(&env, &["wait", "deaf"]).trim(), "0");
    ok(&env, &["rm", "-f", "reader", "deaf"]);
    env.finish();
}

#[test]
fn top_and_stats_read_a_running_container() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    ok(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "busy",
            "-m",
            "64m",
            "demo",
            "sh",
            "-c",
            "sleep 1000 & while :; do :; done",
        ],
    );
    let top = ok(&env, &["top", "busy"]);
    assert!(top.starts_with("UID"), "{top}");
    assert!(top.contains("sleep 1000"), "{top}");
    // Its init, its shell and the sleep: three processes, host pids.
    assert_eq!(top.lines().count(), 4, "{top}");
    let stats = ok(&env, &["stats", "--no-stream"]);
    let line = stats
        .lines()
        .find(|l| l.contains("busy"))
        .unwrap_or_else(|| panic!("{stats}"));
    // A shell spinning on one CPU: far above nothing, and the limit shown.
    let cpu: f64 = line
        .split_whitespace()
        .nth(2)
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!(cpu > 20.0, "{stats}");
    assert!(line.contains("/ 64MiB"), "{stats}");
    assert!(line.ends_with(" 3"), "three processes: {stats}");
    ok(&env, &["rm", "-f", "busy"]);
    let stopped = run(&env, &["top", "busy"]);
    assert_eq!(stopped.code, 1);
    env.finish();
}

#[test]
fn health_checks_from_run_flags_and_from_a_dockerfile() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let status = |name: &str| inspect(&env, name)["State"]["Health"]["Status"].clone();
    ok(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "web",
            "--health-cmd",
            "test -e /tmp/ok",
            "--health-interval",
            "200ms",
            "--health-retries",
            "2",
            "demo",
            "sleep",
            "1000",
        ],
    );
    eventually("two failures make it unhealthy", || {
        status("web") == "unhealthy"
    });
    assert!(ok(&env, &["ps"]).contains("(unhealthy)"));
    ok(&env, &["exec", "web", "touch", "/tmp/ok"]);
    eventually("a success makes it healthy", || status("web") == "healthy");
    assert!(ok(&env, &["ps"]).contains("(healthy)"));
    let log = inspect(&env, "web")["State"]["Health"]["Log"].clone();
    let last = log.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ExitCode"], 0, "{log}");
    ok(&env, &["rm", "-f", "web"]);

    // The Dockerfile's HEALTHCHECK, kept in the image, runs in its
    // containers; --no-healthcheck turns it off.
    let context = env.state_root().join("context");
    std::fs::create_dir(&context).unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM demo\nHEALTHCHECK --interval=200ms --retries=1 CMD [\"true\"]\n",
    )
    .unwrap();
    ok(
        &env,
        &["build", "-q", "-t", "checked", context.to_str().unwrap()],
    );
    ok(
        &env,
        &["run", "-d", "--name", "checked", "checked", "sleep", "1000"],
    );
    eventually("the image's check passes", || {
        status("checked") == "healthy"
    });
    ok(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "unchecked",
            "--no-healthcheck",
            "checked",
            "sleep",
            "1000",
        ],
    );
    std::thread::sleep(Duration::from_millis(600));
    assert!(inspect(&env, "unchecked")["State"]["Health"].is_null());
    ok(&env, &["rm", "-f", "checked", "unchecked"]);
    env.finish();
}

#[test]
fn cp_both_ways_running_and_stopped_never_out_of_the_root() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let host = env.state_root().join("host");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("in.txt"), "from the host\n").unwrap();
    let at = |name: &str| host.join(name).to_str().unwrap().to_string();
    ok(
        &env,
        &["run", "-d", "--name", "box", "demo", "sleep", "1000"],
    );
    // Into a running container, and out of it.
    ok(&env, &["cp", &at("in.txt"), "box:/tmp/"]);
    assert_eq!(
        ok(&env, &["exec", "box", "cat", "/tmp/in.txt"]),
        "from the host\n"
    );
    ok(
        &env,
        &[
            "exec",
            "box",
            "sh",
            "-c",
            "echo inside > /marker; ln -s / /tmp/up",
        ],
    );
    // /tmp/up is the container's root, not the host's.
    ok(&env, &["cp", "box:/tmp/up/marker", &at("out.txt")]);
    assert_eq!(
        std::fs::read_to_string(host.join("out.txt")).unwrap(),
        "inside\n"
    );
    // A stopped container: its layers, mounted for the copy only.
    ok(&env, &["stop", "-t", "1", "box"]);
    ok(&env, &["cp", "box:/tmp/in.txt", &at("back.txt")]);
    assert_eq!(
        std::fs::read_to_string(host.join("back.txt")).unwrap(),
        "from the host\n"
    );
    ok(&env, &["cp", &at("in.txt"), "box:/root/copied.txt"]);
    ok(&env, &["start", "box"]);
    assert_eq!(
        ok(&env, &["exec", "box", "cat", "/root/copied.txt"]),
        "from the host\n"
    );
    let missing = run(&env, &["cp", "box:/no/such/file", &at("x")]);
    assert_eq!(missing.code, 1, "{missing:?}");
    ok(&env, &["rm", "-f", "box"]);
    env.finish();
}

#[test]
fn a_container_with_its_own_user_namespace_runs_detached_and_takes_exec() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    ok(
        &env,
        &[
            "run", "-d", "--name", "mapped", "--userns", "demo", "sleep", "1000",
        ],
    );
    // exec joins the user namespace first, then becomes its root: uid 0
    // inside, 100000 outside.
    let inside = ok(
        &env,
        &[
            "exec",
            "mapped",
            "sh",
            "-c",
            "id -u; cat /proc/self/uid_map",
        ],
    );
    let mut lines = inside.lines();
    assert_eq!(lines.next(), Some("0"), "{inside}");
    let map: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(map[..2], ["0", "100000"], "{inside}");
    let top = ok(&env, &["top", "mapped"]);
    assert!(
        top.lines().skip(1).all(|l| l.starts_with("100000 ")),
        "{top}"
    );
    ok(&env, &["rm", "-f", "mapped"]);
    env.finish();
}
