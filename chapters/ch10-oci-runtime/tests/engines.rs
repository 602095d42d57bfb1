//! Real engines drive cratebox-runtime: podman runs, execs, stops and
//! removes containers with it, and buildah builds a Dockerfile with it.
//! Their storage, and the runtime's state (its `--root`), stay in the
//! test's temp dir; their cgroups are named after cratebox
//! so that the leak check sees them.

mod common;

use std::process::Command;

use common::*;
use cratebox_testkit::{tool, TestEnv};

/// The runtime with `--root` in the test's temp dir, as a program: the
/// engines call their runtime from several processes (conmon, podman's
/// cleanup after the container exits), and neither `--runtime-flag` nor
/// the environment reaches them all.
fn wrapper(env: &TestEnv) -> std::path::PathBuf {
    let path = env.state_root().join("cratebox-runtime");
    let script = format!(
        "#!/bin/sh\nexec {BIN} --root {} \"$@\"\n",
        state_root(env).display()
    );
    std::fs::write(&path, script).expect("the wrapper");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    path
}

/// `podman` or `buildah` with storage and the runtime's state in the
/// test's temp dir, and the flags this host needs.
fn engine(env: &TestEnv, name: &str) -> Option<Command> {
    let program = tool(name)?;
    let work = env.state_root();
    let mut command = Command::new(program);
    command
        .arg("--root")
        .arg(work.join("storage"))
        .arg("--runroot")
        .arg(work.join("run"))
        .env("TMPDIR", work);
    if name == "podman" {
        command.args([
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "none",
            "--runtime",
        ]);
        command.arg(wrapper(env));
    }
    Some(command)
}

/// Run it with `args`; its stdout, insisting it succeeded.
fn engine_ok(env: &TestEnv, name: &str, args: &[&str]) -> String {
    let mut command = engine(env, name).expect("checked");
    let out = command
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("cannot start the engine");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(
        out.status.success(),
        "{name} {args:?}: {}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// podman puts each conmon in `<cgroup parent>/conmon` and leaves that
/// cgroup (and so the parent) behind. The containers' own cgroups must be
/// gone (the runtime's `delete` removes them); then remove podman's.
fn remove_podmans_cgroups() {
    let parents = ["/sys/fs/cgroup/cratebox-test-podman".to_string()]
        .into_iter()
        .chain(
            std::fs::read_dir("/sys/fs/cgroup")
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| format!("{}/cratebox-test-podman", e.path().display())),
        );
    for parent in parents.filter(|p| std::path::Path::new(p).is_dir()) {
        let left: Vec<String> = std::fs::read_dir(&parent)
            .expect("the parent")
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            left.iter().all(|name| name == "conmon"),
            "{parent} still has {left:?}"
        );
        for dir in [format!("{parent}/conmon"), parent.clone()] {
            if std::path::Path::new(&dir).exists() {
                std::fs::remove_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
            }
        }
    }
}

/// The host's network interfaces.
fn interfaces() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/sys/class/net")
        .expect("/sys/class/net")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The demo image, imported into the engines' storage as localhost/demo.
fn import_demo(env: &TestEnv) {
    let tar = env.rootfs_tar();
    engine_ok(
        env,
        "podman",
        &[
            "import",
            "-q",
            tar.to_str().expect("a UTF-8 path"),
            "localhost/demo",
        ],
    );
}

const RUN: [&str; 11] = [
    "run",
    "--network",
    "none",
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=1024:1024",
    "--cgroup-parent",
    "/cratebox-test-podman",
    "--rm",
    "localhost/demo",
];

#[test]
fn podman_runs_execs_stops_and_removes_containers_with_it() {
    let Some((_turn, env)) = setup() else { return };
    if engine(&env, "podman").is_none() {
        return;
    }
    let links = interfaces();
    import_demo(&env);
    let hi = engine_ok(&env, "podman", &[&RUN[..], &["echo", "hi"]].concat());
    assert_eq!(hi, "hi\n");

    let detached: Vec<&str> = RUN.iter().copied().filter(|a| *a != "--rm").collect();
    let id = engine_ok(
        &env,
        "podman",
        &[
            &detached[..1],
            &["-d", "--name", "long"],
            &detached[1..],
            &["sleep", "1000"],
        ]
        .concat(),
    );
    assert!(!id.trim().is_empty());
    // The runtime has its record, under the root podman passed.
    let listed = ok(&env, &["list"]);
    assert!(
        listed.contains(id.trim()) && listed.contains("running"),
        "{listed}"
    );
    let exec = engine_ok(
        &env,
        "podman",
        &[
            "exec",
            "long",
            "sh",
            "-c",
            "echo in $(hostname); cat /proc/1/comm",
        ],
    );
    assert!(
        exec.ends_with("\nsleep\n") && exec.starts_with("in "),
        "{exec}"
    );
    engine_ok(&env, "podman", &["stop", "-t", "1", "long"]);
    let status = engine_ok(
        &env,
        "podman",
        &["inspect", "-f", "{{.State.Status}}", "long"],
    );
    assert_eq!(status.trim(), "exited");
    engine_ok(&env, "podman", &["rm", "long"]);
    assert!(!ok(&env, &["list"]).contains(id.trim()));
    engine_ok(&env, "podman", &["rmi", "-a", "-f"]);
    remove_podmans_cgroups();
    assert_eq!(interfaces(), links, "the engines left a network interface");
    env.finish();
}

#[test]
fn buildah_builds_a_dockerfile_with_it() {
    let Some((_turn, env)) = setup() else { return };
    if engine(&env, "podman").is_none() || engine(&env, "buildah").is_none() {
        return;
    }
    let links = interfaces();
    import_demo(&env);
    let context = env.state_root().join("context");
    std::fs::create_dir_all(&context).expect("a context");
    std::fs::write(
        context.join("Dockerfile"),
        "FROM localhost/demo\nENV APP_HOME=/app MODE=test\nWORKDIR /app\nCOPY app.sh .\n\
         RUN chmod +x app.sh && echo built > stamp\nCMD [\"./app.sh\"]\n",
    )
    .expect("a Dockerfile");
    std::fs::write(
        context.join("app.sh"),
        "#!/bin/sh\necho \"$MODE app in $APP_HOME: $(cat stamp)\"\n",
    )
    .expect("app.sh");
    engine_ok(
        &env,
        "buildah",
        &[
            "bud",
            "-q",
            // Without it, buildah gives RUN a bridge of its own (CNI's
            // cni-podman0, with firewall rules) and leaves it on the host.
            "--network",
            "none",
            "--runtime",
            wrapper(&env).to_str().expect("a UTF-8 path"),
            "--cgroup-parent",
            "/cratebox-test-buildah",
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
            "-t",
            "built",
            context.to_str().expect("a UTF-8 path"),
        ],
    );
    let out = engine_ok(
        &env,
        "podman",
        &[&RUN[..RUN.len() - 1], &["localhost/built"]].concat(),
    );
    assert_eq!(out, "test app in /app: built\n");
    engine_ok(&env, "podman", &["rmi", "-a", "-f"]);
    remove_podmans_cgroups();
    assert_eq!(interfaces(), links, "the engines left a network interface");
    env.finish();
}
