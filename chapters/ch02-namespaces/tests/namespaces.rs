//! Chapter 2 run for real: namespaces and pivot_root as root, against the
//! demo image. Each test checks it left no mount, namespace or process.

use std::os::unix::fs::MetadataExt;

use cratebox_testkit::{
    host_namespaces, normalize_report, require_root, TestEnv, BREAKOUT_PATH, PROBE_PATH,
};

const BIN: &str = env!("CARGO_BIN_EXE_ch02-namespaces");

#[test]
fn breakout_is_contained_after_pivot_root() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let out = env.run(BIN, &[BREAKOUT_PATH]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("contained"), "{out:?}");
    assert!(!out.stdout.contains("escaped"), "{out:?}");
    env.finish();
}

#[test]
fn breakout_is_contained_with_userns_too() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let out = env.run(BIN, &["--userns", BREAKOUT_PATH]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("contained"), "{out:?}");
    env.finish();
}

#[test]
fn hostname_set_inside_leaves_the_host_alone() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let host_before = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let out = env.run(
        BIN,
        &[
            "--hostname",
            "given",
            "/bin/sh",
            "-c",
            "hostname; hostname changed-inside; hostname",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "given\nchanged-inside\n");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        host_before
    );
    env.finish();
}

#[test]
fn only_the_container_processes_are_visible() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    // PID 1 is the init (a copy of ch02-namespaces, hence its name), PID 2
    // the command, which exec'd into ps.
    let out = env.run(BIN, &["ps", "-o", "pid,comm"]);
    assert_eq!(out.code, 0, "{out:?}");
    insta::assert_snapshot!(out.stdout, @r"
    PID   COMMAND
        1 ch02-namespaces
        2 ps
    ");
    env.finish();
}

#[test]
fn orphans_are_reaped_by_init() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    // The inner shell exits at once, orphaning its background sleep; when
    // that ends, only PID 1 can reap it. A zombie would show state Z.
    let script = "sh -c 'sleep 0.1 &'; sleep 0.5; ps -o stat,comm";
    let out = env.run(BIN, &["/bin/sh", "-c", script]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        !out.stdout.lines().any(|l| l.trim_start().starts_with('Z')),
        "{out:?}"
    );
    assert!(!out.stdout.contains("sleep"), "the orphan is gone: {out:?}");
    env.finish();
}

#[test]
fn only_loopback_exists_and_it_is_up() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let out = env.run(BIN, &["/bin/sh", "-c", "ls /sys/class/net; cat /sys/class/net/lo/flags; ping -c 1 -W 1 127.0.0.1 >/dev/null && echo ping ok"]);
    assert_eq!(out.code, 0, "{out:?}");
    // flags 0x9 = IFF_UP | IFF_LOOPBACK.
    assert_eq!(out.stdout, "lo\n0x9\nping ok\n");
    env.finish();
}

#[test]
fn probe_report_shows_every_namespace_but_user_and_time_is_own() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let ns = host_namespaces();
    let out = env.run(BIN, &["--hostname", "probed", PROBE_PATH, "--host-ns", &ns]);
    assert_eq!(out.code, 0, "{out:?}");
    insta::assert_snapshot!(normalize_report(&out.stdout, &env.host_bounding_set()));
    env.finish();
}

#[test]
fn probe_report_with_userns() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let ns = host_namespaces();
    let out = env.run(BIN, &["--userns", PROBE_PATH, "--host-ns", &ns]);
    assert_eq!(out.code, 0, "{out:?}");
    insta::assert_snapshot!(normalize_report(&out.stdout, &env.host_bounding_set()));
    env.finish();
}

#[test]
fn userns_root_inside_is_unprivileged_outside() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let out = env.run(
        BIN,
        &[
            "--userns",
            "/bin/sh",
            "-c",
            "id -u; cat /proc/self/uid_map; touch /tmp/made-inside",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<String> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(lines, ["0", "0 100000 65536"]);
    // The file root made inside belongs to uid 100000 on the host.
    let made = env.rootfs().join("tmp/made-inside");
    assert_eq!(std::fs::metadata(&made).unwrap().uid(), 100_000);
    std::fs::remove_file(made).unwrap();
    env.finish();
}

#[test]
fn exit_code_passes_through() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    assert_eq!(env.run(BIN, &["/bin/sh", "-c", "exit 42"]).code, 42);
    assert_eq!(env.run(BIN, &["/bin/sh", "-c", "kill -9 $$"]).code, 137);
    assert_eq!(
        env.run(BIN, &["--userns", "/bin/sh", "-c", "exit 3"]).code,
        3
    );
    env.finish();
}

#[test]
fn sigterm_reaches_the_command_through_init() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let mut child = env.command(BIN).args(["sleep", "30"]).spawn().unwrap();
    // Wait until the command runs inside the rootfs, then TERM the outer program.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !cratebox_testkit::command_running_in(env.rootfs(), "sleep") {
        assert!(
            std::time::Instant::now() < deadline,
            "the container never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: kill(2) with a pid we own and a valid signal number.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    // sleep died of SIGTERM (15): 128 + 15.
    assert_eq!(status.code(), Some(143));
    env.finish();
}

#[test]
fn missing_command_is_a_clear_error() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let out = env.run(BIN, &["no-such-command"]);
    assert_eq!(out.code, 127, "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(
        out.stderr
            .contains("command \"no-such-command\" not found in the container"),
        "{out:?}"
    );
    env.finish();
}

#[test]
fn invalid_hostname_is_refused_before_anything_happens() {
    // No root needed: the name is checked first.
    let out = std::process::Command::new(BIN)
        .args(["--hostname", "bad_name!", "/bin/true"])
        .output()
        .unwrap();
    let out = cratebox_testkit::Outcome::from(out);
    assert_eq!(out.code, 125, "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        "ch02-namespaces: invalid hostname \"bad_name!\": it may only contain letters, digits, '-' and '.'; pass one like --hostname web-1"
    );
}

#[test]
fn missing_rootfs_is_a_clear_error() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let missing = env.state_root().join("nowhere");
    let out = env.run(BIN, &["--rootfs", missing.to_str().unwrap(), "/bin/true"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(out.stderr.contains("does not exist"), "{out:?}");
    env.finish();
}

#[test]
fn a_failed_setup_step_is_named_and_leaves_nothing() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    // A rootfs whose /dev is a file: the tmpfs for /dev cannot be mounted.
    let broken = env.state_root().join("broken");
    std::fs::create_dir_all(broken.join("bin")).unwrap();
    std::fs::write(broken.join("dev"), "not a directory").unwrap();
    let out = env.run(BIN, &["--rootfs", broken.to_str().unwrap(), "/bin/true"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(
        out.stderr
            .contains("cannot prepare the container: `mount -t tmpfs"),
        "{out:?}"
    );
    assert!(out.stderr.contains("/broken/dev` failed"), "{out:?}");
    env.finish();
}

#[test]
fn userns_needs_a_rootfs_others_can_reach() {
    if !require_root() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    // A private directory on the way, as `mktemp -d` makes them.
    let private = env.state_root().join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let rootfs = private.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    let out = env.run(
        BIN,
        &[
            "--userns",
            "--rootfs",
            rootfs.to_str().unwrap(),
            "/bin/true",
        ],
    );
    assert_eq!(out.code, 125, "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "cannot enter {} (mode 700): run `chmod o+x",
            private.display()
        )),
        "{out:?}"
    );
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
        env!("CARGO_BIN_EXE_ch02-namespaces"),
        &[],
        &["--rootfs", "/nonexistent/rootfs", "true"],
    );
    env.finish();
}
