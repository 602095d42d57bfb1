//! Chapter 9 as a user meets it: what a container's root may do, by
//! default and with each option, seen from inside by the probe and by the
//! escape suite. Every container runs with `--network none`: nothing here
//! touches the host's network.

// Helpers outside test functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{escape, in_container, ok, run, security_report, setup, verdict, DOCKER_DEFAULT};

/// What the acceptance asks of the default container, in the probe's words.
#[test]
fn a_default_container_keeps_dockers_capabilities_no_new_privs_and_a_filter() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let report = security_report(&env, &[]);
    assert_eq!(
        report["capabilities.effective"], DOCKER_DEFAULT,
        "{report:#?}"
    );
    assert_eq!(
        report["capabilities.bounding"], DOCKER_DEFAULT,
        "{report:#?}"
    );
    assert_eq!(
        report["capabilities.permitted"], DOCKER_DEFAULT,
        "{report:#?}"
    );
    assert_eq!(report["capabilities.inheritable"], "none", "{report:#?}");
    assert_eq!(report["capabilities.ambient"], "none", "{report:#?}");
    assert_eq!(report["no_new_privs"], "1", "{report:#?}");
    assert_eq!(report["seccomp"], "filter", "{report:#?}");
    for path in [
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/sys/firmware",
    ] {
        let state = report[&format!("masked.{path}")].as_str();
        assert!(["empty", "missing"].contains(&state), "{path}: {state}");
    }
    for path in ["/proc/sys", "/proc/irq", "/sys"] {
        assert_eq!(report[&format!("read-only.{path}")], "read-only", "{path}");
    }
    // Some kernels are built without the magic SysRq key.
    let sysrq = report["read-only./proc/sysrq-trigger"].as_str();
    assert!(["read-only", "missing"].contains(&sysrq), "{sysrq}");
    assert_eq!(report["read-only./"], "writable");
    env.finish();
}

#[test]
fn privileged_is_the_opposite() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let report = security_report(&env, &["--privileged"]);
    assert_eq!(
        report["capabilities.effective"],
        env.host_bounding_set(),
        "{report:#?}"
    );
    assert_eq!(report["no_new_privs"], "0", "{report:#?}");
    assert_eq!(report["seccomp"], "disabled", "{report:#?}");
    assert_eq!(report["masked./proc/keys"], "readable", "{report:#?}");
    assert_eq!(report["read-only./proc/sys"], "writable", "{report:#?}");
    env.finish();
}

/// Each attempt of the escape suite is refused in a default container,
/// and the same suite with --privileged shows what the defaults stopped.
#[test]
fn the_escape_suite_is_refused_by_default_and_not_when_privileged() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    // docker keeps NET_RAW (ping needs it): the raw socket is tried with
    // it dropped, everything else in a container exactly as by default.
    let all_but_raw = [
        "mount", "module", "sysrq", "kcore", "keyctl", "ptrace", "userns", "mknod", "time",
        "reboot", "bpf", "cgroup",
    ];
    let default = escape(&env, &[], &all_but_raw);
    println!("default:\n{}", default.stdout);
    assert_eq!(default.code, 0, "an attempt got through: {default:?}");
    assert_eq!(
        default.stdout.lines().count(),
        all_but_raw.len(),
        "{default:?}"
    );
    assert!(!default.stdout.contains("ALLOWED"), "{default:?}");
    let raw = escape(&env, &["--cap-drop", "NET_RAW"], &["raw-socket"]);
    assert_eq!(raw.code, 0, "{raw:?}");
    assert_eq!(
        verdict(&raw.stdout, "open a raw socket"),
        "refused",
        "{raw:?}"
    );

    let privileged = escape(&env, &["--privileged"], &[]);
    println!("--privileged:\n{}", privileged.stdout);
    assert_eq!(privileged.code, 1, "{privileged:?}");
    // What holds on any host: these need only the capabilities and the
    // absence of the filter and of the read-only paths.
    for title in [
        "mount a file system",
        "make a user namespace",
        "open a raw socket",
        "set the clock",
        "reboot the machine",
    ] {
        assert_eq!(verdict(&privileged.stdout, title), "ALLOWED", "{title}");
    }
    env.finish();
}

#[test]
fn cap_add_and_cap_drop_follow_dockers_rules() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let only = security_report(
        &env,
        &["--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE"],
    );
    assert_eq!(only["capabilities.effective"], "net_bind_service");
    assert_eq!(only["capabilities.bounding"], "net_bind_service");
    let more = security_report(
        &env,
        &["--cap-add", "sys_time", "--cap-drop", "CAP_NET_RAW"],
    );
    let effective = &more["capabilities.effective"];
    assert!(effective.contains("sys_time"), "{effective}");
    assert!(!effective.contains("net_raw"), "{effective}");
    // With SYS_TIME the clock may be set, and the profile lets it.
    let time = escape(&env, &["--cap-add", "SYS_TIME"], &["time"]);
    assert_eq!(
        verdict(&time.stdout, "set the clock"),
        "ALLOWED",
        "{time:?}"
    );
    env.finish();
}

#[test]
fn the_options_that_turn_a_layer_off() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let report = security_report(
        &env,
        &[
            "--security-opt",
            "no-new-privileges=false",
            "--security-opt",
            "seccomp=unconfined",
        ],
    );
    assert_eq!(report["no_new_privs"], "0");
    assert_eq!(report["seccomp"], "disabled");
    assert_eq!(report["capabilities.effective"], DOCKER_DEFAULT);
    assert_eq!(report["masked./proc/keys"], "empty");
    env.finish();
}

/// A profile of one's own, in docker's format: read at create and kept,
/// so the file may go away before the container starts again.
#[test]
fn a_seccomp_profile_file_is_read_at_create_and_kept() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("no-mkdir.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}"#,
    )
    .unwrap();
    let option = format!("seccomp={}", profile.display());
    let created = ok(
        &env,
        &[
            "create",
            "--name",
            "strict",
            "--network",
            "none",
            "--security-opt",
            &option,
            "demo",
            "mkdir",
            "/made",
        ],
    );
    assert_eq!(created.trim().len(), 64, "{created}");
    std::fs::remove_file(&profile).unwrap();
    let started = run(&env, &["start", "-a", "strict"]);
    assert_ne!(started.code, 0, "{started:?}");
    assert!(
        started.stderr.contains("Operation not permitted"),
        "{started:?}"
    );
    let inspect: serde_json::Value =
        serde_json::from_str(&ok(&env, &["inspect", "strict"])).unwrap();
    assert_eq!(inspect[0]["HostConfig"]["SecurityOpt"][0], option.as_str());
    ok(&env, &["rm", "strict"]);
    env.finish();
}

#[test]
fn exec_runs_under_the_containers_limits() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    ok(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "long",
            "--network",
            "none",
            "--cap-drop",
            "CHOWN",
            "demo",
            "sleep",
            "30",
        ],
    );
    let out = ok(
        &env,
        &["exec", "long", "/usr/local/bin/probe", "--security"],
    );
    let report = common::parse_report(&out);
    let expected = DOCKER_DEFAULT.replace("chown,", "");
    assert_eq!(report["capabilities.effective"], expected, "{out}");
    assert_eq!(report["no_new_privs"], "1", "{out}");
    assert_eq!(report["seccomp"], "filter", "{out}");
    ok(&env, &["rm", "-f", "long"]);
    env.finish();
}

/// no_new_privs: a setuid-root program run by another user stays that
/// user; without it, the program becomes root, with the container's
/// capabilities.
#[test]
fn a_setuid_program_gains_nothing_under_no_new_privs() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let probe = dir.path().join("probe");
    std::fs::copy(env.rootfs().join("usr/local/bin/probe"), &probe).unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let volume = format!("{}:/suid:ro", dir.path().display());
    let with = in_container(
        &env,
        &["-u", "1000", "-v", &volume],
        &["/suid/probe", "--security"],
    );
    let without = in_container(
        &env,
        &[
            "-u",
            "1000",
            "-v",
            &volume,
            "--security-opt",
            "no-new-privileges=false",
        ],
        &["/suid/probe", "--security"],
    );
    println!("with: {with:?}\nwithout: {without:?}");
    let (with, without) = (
        common::parse_report(&with.stdout),
        common::parse_report(&without.stdout),
    );
    assert_eq!(with["capabilities.effective"], "none", "{with:#?}");
    assert_eq!(
        without["capabilities.effective"], DOCKER_DEFAULT,
        "{without:#?}"
    );
    drop(dir);
    env.finish();
}

#[test]
fn a_read_only_root_with_a_writable_tmpfs() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let out = in_container(
        &env,
        &["--read-only", "--tmpfs", "/scratch"],
        &[
            "sh",
            "-c",
            "touch /file 2>/dev/null && echo root-writable; touch /scratch/file && echo scratch-writable",
        ],
    );
    assert_eq!(out.stdout, "scratch-writable\n", "{out:?}");
    env.finish();
}

#[test]
fn a_device_of_the_hosts_and_no_other() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let out = in_container(
        &env,
        &["--device", "/dev/null:/dev/void"],
        &[
            "sh",
            "-c",
            "echo gone > /dev/void && stat -c '%F %t:%T' /dev/void",
        ],
    );
    assert_eq!(out.stdout, "character special file 1:3\n", "{out:?}");
    // A node the container makes itself cannot be opened, though its root
    // holds CAP_MKNOD: it may make /dev/zero's twin, not read it.
    let made = in_container(
        &env,
        &[],
        &[
            "sh",
            "-c",
            "mknod /dev/twin c 1 5 && mknod /tmp/twin c 1 5 && echo made; \
             head -c1 /dev/twin >/dev/null 2>&1 || echo dev-refused; \
             head -c1 /tmp/twin >/dev/null 2>&1 || echo tmp-refused",
        ],
    );
    assert_eq!(made.stdout, "made\ndev-refused\ntmp-refused\n", "{made:?}");
    env.finish();
}

#[test]
fn inspect_shows_the_options_in_dockers_fields() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    ok(
        &env,
        &[
            "create",
            "--name",
            "shown",
            "--network",
            "none",
            "--cap-add",
            "NET_ADMIN",
            "--cap-drop",
            "MKNOD",
            "--read-only",
            "--security-opt",
            "no-new-privileges",
            "demo",
            "true",
        ],
    );
    let inspect: serde_json::Value =
        serde_json::from_str(&ok(&env, &["inspect", "shown"])).unwrap();
    let host = &inspect[0]["HostConfig"];
    assert_eq!(host["Privileged"], false, "{host}");
    assert_eq!(host["CapAdd"][0], "NET_ADMIN", "{host}");
    assert_eq!(host["CapDrop"][0], "MKNOD", "{host}");
    assert_eq!(host["ReadonlyRootfs"], true, "{host}");
    assert_eq!(host["SecurityOpt"][0], "no-new-privileges", "{host}");
    assert_eq!(host["MaskedPaths"][2], "/proc/kcore", "{host}");
    assert_eq!(host["ReadonlyPaths"][3], "/proc/sys", "{host}");
    ok(&env, &["rm", "shown"]);
    env.finish();
}

/// Bad options: one line that names the problem and the fix, exit 125,
/// and no container made.
#[test]
fn bad_options_are_refused_and_leave_nothing() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, r#"{"defaultAction": "SCMP_ACT_MAYBE"}"#).unwrap();
    let broken = format!("seccomp={}", broken.display());
    for (options, says) in [
        (
            vec!["--cap-add", "SYS_BOGUS"],
            "unknown capability \"SYS_BOGUS\"",
        ),
        (
            vec!["--security-opt", "apparmor=unconfined"],
            "cratebox knows",
        ),
        (
            vec!["--security-opt", "seccomp=/no/such/profile.json"],
            "cannot read the seccomp profile",
        ),
        (vec!["--security-opt", broken.as_str()], "SCMP_ACT_MAYBE"),
        (vec!["--device", "/etc/hostname"], "is not a device node"),
        (
            vec!["--device", "dev/null"],
            "expected HOST[:CONTAINER[:rwm]]",
        ),
    ] {
        let out = in_container(&env, &options, &["true"]);
        assert_eq!(out.code, 125, "{options:?}: {out:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{options:?}: {out:?}");
        assert!(out.stderr.contains(says), "{options:?}: {out:?}");
    }
    assert_eq!(ok(&env, &["ps", "-aq"]), "");
    env.finish();
}

/// A build's RUN runs hardened too, as docker's builds do.
#[test]
fn a_builds_run_steps_are_hardened() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        "FROM demo\nRUN grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status > /limits\n",
    )
    .unwrap();
    ok(
        &env,
        &["build", "-t", "limits", context.path().to_str().unwrap()],
    );
    let out = ok(
        &env,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "limits",
            "cat",
            "/limits",
        ],
    );
    assert_eq!(
        out, "CapEff:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t2\n",
        "{out}"
    );
    env.finish();
}
