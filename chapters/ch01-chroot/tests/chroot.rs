//! Chapter 1 run for real: chroot as root, against the demo image.

use cratebox_testkit::{require_root, TestEnv, BREAKOUT_PATH};

const BIN: &str = env!("CARGO_BIN_EXE_ch01-chroot");

#[test]
fn breakout_escapes_plain_chroot() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let out = env.run(BIN, &[BREAKOUT_PATH]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("escaped: / is now the host's root"),
        "{out:?}"
    );
    // The program found its way back to the jail through the host's /proc.
    assert!(
        out.stdout
            .contains(&format!("the jail was {}", env.rootfs().display())),
        "{out:?}"
    );
    // ...and tidied up the directory it made there.
    let leftovers: Vec<_> = std::fs::read_dir(env.rootfs().join("tmp"))
        .unwrap()
        .flatten()
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    env.finish();
}

#[test]
fn demo_shows_the_host_hostname_and_pids() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let out = env.run(BIN, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert!(
        out.stdout.contains(&format!("hostname: {}:", host.trim())),
        "{out:?}"
    );
    assert!(out.stdout.contains("pid 1 answers kill -0"), "{out:?}");
    let pid_line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("my pid is"))
        .unwrap();
    assert!(!pid_line.starts_with("my pid is 1:"), "{pid_line}");
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
    env.finish();
}

#[test]
fn arguments_after_the_command_belong_to_it() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let out = env.run(BIN, &["echo", "--rootfs", "-n", "x"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "--rootfs -n x\n");
    env.finish();
}

#[test]
fn missing_command_is_a_clear_error() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let out = env.run(BIN, &["no-such-command", "arg"]);
    assert_eq!(out.code, 127, "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(
        out.stderr.contains("command \"no-such-command\" not found"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("pass a command that exists in the image"),
        "{out:?}"
    );
    env.finish();
}

#[test]
fn missing_or_empty_rootfs_is_a_clear_error() {
    if !require_root() {
        return;
    }
    let env = TestEnv::new();
    let missing = env.state_root().join("nowhere");
    let out = env.run(BIN, &["--rootfs", missing.to_str().unwrap(), "/bin/true"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(
        out.stderr.contains("does not exist: pass --rootfs DIR"),
        "{out:?}"
    );

    let empty = env.state_root().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = env.run(BIN, &["--rootfs", empty.to_str().unwrap(), "/bin/true"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(out.stderr.contains("is empty"), "{out:?}");
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "nothing written into it"
    );
    env.finish();
}

#[test]
fn not_root_is_refused_with_the_fix() {
    if !require_root() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let env = TestEnv::new();
    // A copy of the binary that user nobody can reach, whatever the
    // permissions of the directories the build happens to live in.
    std::fs::set_permissions(env.state_root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = env.state_root().join("ch01-chroot");
    std::fs::copy(BIN, &bin).unwrap();
    let output = env
        .command(bin.to_str().unwrap())
        .arg("/bin/true")
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let out = cratebox_testkit::Outcome::from(output);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(
        out.stderr.contains("needs root to call chroot(2)"),
        "{out:?}"
    );
    env.finish();
}

#[test]
fn exit_codes_are_dockers() {
    cratebox_testkit::check_exit_codes(
        env!("CARGO_BIN_EXE_ch01-chroot"),
        &[],
        &["--rootfs", "/nonexistent/rootfs", "true"],
    );
}
