//! What chapter 10's tests share: the runtime, a bundle on the demo
//! image, and waiting for a container's status.

// Each test file uses some of these, not all.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use cratebox_testkit::{one_at_a_time, require_root, Outcome, TestEnv};
use serde_json::{json, Value};

/// The runtime.
pub const BIN: &str = env!("CARGO_BIN_EXE_cratebox-runtime");

/// Our turn and a fresh temp dir with the demo image; `None` where the
/// test cannot run (not root, outside CI).
pub fn setup() -> Option<(MutexGuard<'static, ()>, TestEnv)> {
    if !require_root() {
        return None;
    }
    let turn = one_at_a_time();
    Some((turn, TestEnv::new()))
}

/// The runtime's `--root` for this test: inside its temp dir.
pub fn state_root(env: &TestEnv) -> PathBuf {
    env.state_root().join("runtime")
}

/// Run the runtime with `--root` and `args`. Its output goes to files,
/// not pipes: a container's process inherits the runtime's stdout and
/// stderr and keeps them open after the runtime exits, so reading pipes
/// to their end would wait for the container.
pub fn runtime(env: &TestEnv, args: &[&str]) -> Outcome {
    let root = state_root(env);
    let out = env.state_root().join(".runtime-stdout");
    let err = env.state_root().join(".runtime-stderr");
    let file = |path: &Path| std::fs::File::create(path).expect("an output file");
    let status = env
        .command(BIN)
        .arg("--root")
        .arg(&root)
        .args(args)
        .stdout(file(&out))
        .stderr(file(&err))
        .status()
        .expect("cannot start the runtime");
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    let outcome = Outcome {
        code: status.code().unwrap_or_else(|| {
            128 + std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0)
        }),
        stdout: read(&out),
        stderr: read(&err),
    };
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&err);
    outcome
}

/// The same, insisting it succeeded; its stdout.
pub fn ok(env: &TestEnv, args: &[&str]) -> String {
    let out = runtime(env, args);
    assert_eq!(out.code, 0, "cratebox-runtime {args:?}: {out:?}");
    out.stdout
}

/// A bundle in the test's temp dir whose root is the demo image and
/// whose config is `spec`'s with `command` to run; `change` edits it.
pub fn bundle(
    env: &TestEnv,
    name: &str,
    command: &[&str],
    change: impl FnOnce(&mut Value),
) -> PathBuf {
    let dir = env.state_root().join(name);
    std::fs::create_dir_all(&dir).expect("a bundle dir");
    let out = runtime(env, &["spec", "--bundle", dir.to_str().expect("UTF-8")]);
    assert_eq!(out.code, 0, "spec: {out:?}");
    let path = dir.join("config.json");
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("config")).expect("json");
    config["root"]["path"] = json!(env.rootfs());
    config["process"]["args"] = json!(command);
    // The leak check looks for cgroups named after cratebox.
    config["linux"]["cgroupsPath"] = json!(format!("/cratebox-test-{name}"));
    change(&mut config);
    std::fs::write(&path, serde_json::to_string_pretty(&config).expect("json"))
        .expect("write config");
    dir
}

/// The container's `state` document.
pub fn state(env: &TestEnv, id: &str) -> Value {
    serde_json::from_str(&ok(env, &["state", id])).expect("state is JSON")
}

/// Wait (up to 10 s) until the container's status is `status`.
pub fn wait_for(env: &TestEnv, id: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = state(env, id);
        if now["status"] == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{id} never became {status}: {now}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// create + start, then wait for the program to end; its output is
/// collected in a file, as the container's stdout is ours to give.
pub fn run_to_end(env: &TestEnv, bundle: &Path, id: &str) -> Outcome {
    runtime(
        env,
        &["run", "--bundle", bundle.to_str().expect("UTF-8"), id],
    )
}
