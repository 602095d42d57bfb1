//! The runtime's commands, one container at a time: each status of the
//! spec's state machine, what each command does there, and what it
//! refuses.

mod common;

use common::*;

#[test]
fn create_start_kill_delete_walk_the_states() {
    let Some((_turn, env)) = setup() else { return };
    let bundle = bundle(&env, "walk", &["sleep", "1000"], |_| {});
    let pid_file = env.state_root().join("walk.pid");
    ok(
        &env,
        &[
            "create",
            "--bundle",
            bundle.to_str().expect("a UTF-8 path"),
            "--pid-file",
            pid_file.to_str().expect("a UTF-8 path"),
            "walk",
        ],
    );
    let created = state(&env, "walk");
    assert_eq!(created["status"], "created", "{created}");
    let pid = std::fs::read_to_string(&pid_file).expect("the pid file");
    assert_eq!(created["pid"].to_string(), pid, "state and pid file agree");
    assert_eq!(created["bundle"], bundle.to_str().expect("a UTF-8 path"));
    // Its process waits for start, in its own PID namespace.
    let ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).expect("its pid namespace");
    assert_ne!(ns, std::fs::read_link("/proc/self/ns/pid").expect("ours"));

    let again = runtime(
        &env,
        &[
            "create",
            "--bundle",
            bundle.to_str().expect("a UTF-8 path"),
            "walk",
        ],
    );
    assert_eq!((again.code, again.stderr.trim()), (1, "cratebox-runtime: container \"walk\" already exists: delete it first, or pick another id"));
    let early = runtime(&env, &["delete", "walk"]);
    assert_eq!(early.code, 1);
    assert!(early.stderr.contains("it is created"), "{early:?}");

    ok(&env, &["start", "walk"]);
    assert_eq!(state(&env, "walk")["status"], "running");
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).expect("its comm");
    assert_eq!(comm.trim(), "sleep");
    let twice = runtime(&env, &["start", "walk"]);
    assert!(
        twice
            .stderr
            .contains("it is running, and only a created container can be started"),
        "{twice:?}"
    );
    assert!(ok(&env, &["ps", "--format", "json", "walk"]).contains(&pid));
    assert!(ok(&env, &["list"]).contains("walk"));

    ok(&env, &["kill", "walk", "KILL"]);
    wait_for(&env, "walk", "stopped");
    assert_eq!(state(&env, "walk")["pid"], 0);
    let dead = runtime(&env, &["kill", "walk"]);
    assert!(
        dead.stderr
            .contains("it is stopped: there is no process to signal"),
        "{dead:?}"
    );
    ok(&env, &["delete", "walk"]);
    let gone = runtime(&env, &["state", "walk"]);
    assert_eq!(gone.code, 1);
    assert!(gone.stderr.contains("\"walk\" does not exist"), "{gone:?}");
    env.finish();
}

#[test]
fn a_created_container_dies_of_term_and_delete_force_ends_a_running_one() {
    let Some((_turn, env)) = setup() else { return };
    let bundle = bundle(&env, "term", &["sleep", "1000"], |_| {});
    ok(
        &env,
        &[
            "create",
            "--bundle",
            bundle.to_str().expect("a UTF-8 path"),
            "term",
        ],
    );
    // PID 1 of a namespace ignores signals it has no handler for; until
    // start, the runtime's own code is PID 1 and has one.
    ok(&env, &["kill", "term", "TERM"]);
    wait_for(&env, "term", "stopped");
    ok(&env, &["delete", "term"]);

    ok(
        &env,
        &[
            "create",
            "--bundle",
            bundle.to_str().expect("a UTF-8 path"),
            "force",
        ],
    );
    ok(&env, &["start", "force"]);
    ok(&env, &["delete", "--force", "force"]);
    assert_eq!(runtime(&env, &["state", "force"]).code, 1);
    env.finish();
}

#[test]
fn run_gives_the_programs_exit_code_and_output() {
    let Some((_turn, env)) = setup() else { return };
    let bundle = bundle(
        &env,
        "code",
        &["sh", "-c", "echo out from $(hostname); exit 3"],
        |_| {},
    );
    let out = run_to_end(&env, &bundle, "code");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (3, "out from cratebox\n"),
        "{out:?}"
    );
    assert_eq!(
        runtime(&env, &["state", "code"]).code,
        1,
        "run deletes the container"
    );
    env.finish();
}

#[test]
fn exec_joins_the_running_container() {
    let Some((_turn, env)) = setup() else { return };
    let bundle = bundle(&env, "host", &["sleep", "1000"], |c| {
        c["hostname"] = "exec-box".into()
    });
    ok(
        &env,
        &[
            "create",
            "--bundle",
            bundle.to_str().expect("a UTF-8 path"),
            "host",
        ],
    );
    ok(&env, &["start", "host"]);
    let out = runtime(
        &env,
        &[
            "exec",
            "host",
            "sh",
            "-c",
            "hostname; echo $$; cat /proc/1/comm; exit 4",
        ],
    );
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (4, "exec-box\n2\nsleep\n"),
        "{out:?}"
    );

    let pid_file = env.state_root().join("exec.pid");
    let process = env.state_root().join("process.json");
    std::fs::write(
        &process,
        r#"{"args": ["sleep", "1000"], "cwd": "/tmp", "user": {"uid": 1000, "gid": 1000}, "env": ["PATH=/bin"]}"#,
    )
    .expect("process.json");
    ok(
        &env,
        &[
            "exec",
            "--detach",
            "--process",
            process.to_str().expect("a UTF-8 path"),
            "--pid-file",
            pid_file.to_str().expect("a UTF-8 path"),
            "host",
        ],
    );
    let pid = std::fs::read_to_string(&pid_file).expect("the pid file");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("its status");
    assert!(status.contains("Uid:\t1000\t1000\t1000\t1000"), "{status}");
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/cwd")).expect("cwd"),
        std::path::Path::new("/tmp")
    );
    let ps: Vec<i32> =
        serde_json::from_str(&ok(&env, &["ps", "--format", "json", "host"])).expect("pids");
    assert_eq!(ps.len(), 2, "{ps:?}");

    ok(&env, &["delete", "--force", "host"]);
    let refused = runtime(&env, &["exec", "host", "true"]);
    assert_eq!(refused.code, 1);
    env.finish();
}
