//! Chapter 2 run for real: namespaces and pivot_root as root, against the
//! demo image. Each test checks it left no mount, namespace or process.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

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
    // A rootfs whose /dev is a file: the tmpfs for /dev has nowhere to go.
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
    assert!(
        out.stderr
            .contains("/broken/dev`: /dev, a mount point, is not a directory"),
        "{out:?}"
    );
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
    cratebox_testkit::check_exit_codes(
        env!("CARGO_BIN_EXE_ch02-namespaces"),
        &[],
        &["--rootfs", "/nonexistent/rootfs", "true"],
    );
}

/// What a container on a hostile root must do: run, with the mount at the
/// path the link names *inside* the root, or refuse with one line naming
/// the image's path.
#[derive(Debug, Clone)]
enum Expect {
    /// Runs, and the probe sees this file system type mounted at this path.
    MountedInside(String, &'static str),
    /// Exit 125, one line on stderr containing this.
    Refused(&'static str),
}

/// A path on the host that no container may create.
fn host_decoy(case: &str) -> PathBuf {
    PathBuf::from(format!("/tmp/cratebox-decoy-{case}-{}", std::process::id()))
}

/// Hostile mount points in a rootfs: each case replaces one of the
/// directories the mount plan mounts on with a link (or a file).
fn hostile_mount_points() -> Vec<(&'static str, &'static str, Option<String>, Expect)> {
    let (proc_decoy, sys_decoy) = (host_decoy("proc"), host_decoy("sys"));
    let inside = |p: &Path| p.display().to_string();
    vec![
        // An absolute link means the same path inside the root.
        (
            "absolute",
            "proc",
            Some(inside(&proc_decoy)),
            Expect::MountedInside(inside(&proc_decoy), "proc"),
        ),
        // `..` stops at the root, however many there are.
        (
            "dotdot",
            "sys",
            Some(format!("../../../../../../..{}", sys_decoy.display())),
            Expect::MountedInside(inside(&sys_decoy), "sysfs"),
        ),
        // /dev onto the image's own /etc: the tmpfs and what goes in it
        // land there.
        (
            "dev-to-etc",
            "dev",
            Some("/etc".into()),
            Expect::MountedInside("/etc/pts".into(), "devpts"),
        ),
        // A mount over the whole root is refused.
        (
            "to-root",
            "sys",
            Some("../../..".into()),
            Expect::Refused("/sys"),
        ),
        (
            "to-slash",
            "proc",
            Some("/".into()),
            Expect::Refused("/proc"),
        ),
        // A link that never ends, and a file where a directory must be.
        (
            "loop",
            "proc",
            Some("/proc".into()),
            Expect::Refused("/proc"),
        ),
        ("file", "proc", None, Expect::Refused("/proc")),
    ]
}

#[test]
fn symlinked_mount_points_in_a_rootfs_stay_inside_it() {
    if !require_root() {
        return;
    }
    let decoys = [host_decoy("proc"), host_decoy("sys")];
    let mut failures = Vec::new();
    for userns in [false, true] {
        for (name, path, link, expect) in hostile_mount_points() {
            let env = TestEnv::new();
            // A copy of the demo image with one mount point replaced.
            let rootfs = env.state_root().join(format!("hostile-{name}"));
            let copied = std::process::Command::new("cp")
                .arg("-a")
                .arg(env.rootfs())
                .arg(&rootfs)
                .status()
                .unwrap();
            assert!(copied.success());
            std::fs::remove_dir(rootfs.join(path)).unwrap();
            match &link {
                Some(target) => std::os::unix::fs::symlink(target, rootfs.join(path)).unwrap(),
                None => std::fs::write(rootfs.join(path), "not a directory").unwrap(),
            }
            let mut args = vec!["--rootfs", rootfs.to_str().unwrap(), PROBE_PATH];
            if userns {
                args.insert(0, "--userns");
            }
            let out = env.run(BIN, &args);
            let case = format!("{name} (userns: {userns})");
            // Whatever happened, nothing was made on the host.
            let made: Vec<&PathBuf> = decoys
                .iter()
                .filter(|decoy| decoy.symlink_metadata().is_ok())
                .collect();
            for decoy in &made {
                let _ = std::fs::remove_dir(decoy);
            }
            if !made.is_empty() {
                failures.push(format!("{case}: made {made:?} on the host: {out:?}"));
            }
            let as_expected = match &expect {
                Expect::MountedInside(at, fstype) => {
                    out.code == 0 && out.stdout.contains(&format!("  {at} {fstype} "))
                }
                Expect::Refused(named) => {
                    out.code == 125 && out.stderr.lines().count() == 1 && out.stderr.contains(named)
                }
            };
            if !as_expected {
                failures.push(format!("{case}: expected {expect:?}, got {out:?}"));
            }
            env.finish();
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
