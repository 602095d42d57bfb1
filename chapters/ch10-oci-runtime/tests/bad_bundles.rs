//! Bad bundles: each is refused with one line that names the field of
//! config.json at fault, exit code 1, and nothing left behind: no record
//! under --root (`state` knows nothing of it), no mount, no cgroup.

mod common;

use common::*;
use serde_json::json;

/// `create` of `bundle` as `id` fails with one line containing `expected`,
/// and leaves no trace of `id`.
fn refused(env: &cratebox_testkit::TestEnv, bundle: &std::path::Path, id: &str, expected: &str) {
    let out = runtime(
        env,
        &[
            "create",
            "--bundle",
            bundle.to_str().expect("a UTF-8 path"),
            id,
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "one line: {out:?}");
    assert!(out.stderr.contains(expected), "{expected:?} in {out:?}");
    let state = runtime(env, &["state", id]);
    assert!(state.stderr.contains("does not exist"), "{state:?}");
    assert!(!ok(env, &["list"]).contains(id));
    assert!(!state_root(env).join(id).exists());
}

#[test]
fn a_missing_rootfs_is_named() {
    let Some((_turn, env)) = setup() else { return };
    let bundle = bundle(&env, "norootfs", &["true"], |c| {
        c["root"]["path"] = json!("rootfs")
    });
    refused(&env, &bundle, "norootfs", "config.json: root.path: ");
    refused(&env, &bundle, "norootfs", "rootfs is not a directory");
    env.finish();
}

#[test]
fn a_malformed_config_is_named_with_its_place() {
    let Some((_turn, env)) = setup() else { return };
    let bundle = bundle(&env, "malformed", &["true"], |_| {});
    let path = bundle.join("config.json");
    let text = std::fs::read_to_string(&path).expect("config");
    std::fs::write(&path, &text[..text.len() / 2]).expect("cut it");
    refused(&env, &bundle, "malformed", "config.json: ");
    std::fs::write(&path, text.replace("\"uid\": 0", "\"uid\": \"root\"")).expect("a string uid");
    refused(
        &env,
        &bundle,
        "malformed",
        "config.json: process.user.uid: invalid type: string \"root\", expected u32",
    );
    std::fs::remove_file(&path).expect("no config");
    refused(
        &env,
        &bundle,
        "malformed",
        "config.json: No such file or directory",
    );
    env.finish();
}

#[test]
fn an_unknown_namespace_type_is_named() {
    let Some((_turn, env)) = setup() else { return };
    let bundle = bundle(&env, "badns", &["true"], |c| {
        c["linux"]["namespaces"][1]["type"] = json!("netwrok");
    });
    refused(
        &env,
        &bundle,
        "badns",
        "config.json: linux.namespaces[1].type: unknown variant `netwrok`",
    );
    env.finish();
}

#[test]
fn a_failing_hook_stops_the_create_and_takes_everything_down() {
    let Some((_turn, env)) = setup() else { return };
    let bundle = bundle(&env, "badhook", &["true"], |c| {
        c["hooks"] =
            json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]});
    });
    // By then the namespaces, the mounts and the cgroup were made.
    refused(
        &env,
        &bundle,
        "badhook",
        "hooks.createRuntime[0] (/bin/sh): it failed (exit status: 3)",
    );
    let bundle = bundle_with_hook_timeout(&env);
    refused(
        &env,
        &bundle,
        "slowhook",
        "hooks.prestart[0] (/bin/sleep): still running after its timeout of 1 s",
    );
    env.finish();
}

fn bundle_with_hook_timeout(env: &cratebox_testkit::TestEnv) -> std::path::PathBuf {
    bundle(env, "slowhook", &["true"], |c| {
        c["hooks"] =
            json!({"prestart": [{"path": "/bin/sleep", "args": ["sleep", "5"], "timeout": 1}]});
    })
}

#[test]
fn what_the_runtime_does_not_do_is_refused_by_name() {
    let Some((_turn, env)) = setup() else { return };
    let cases = [
        (
            "apparmor",
            json!({"process": {"apparmorProfile": "docker-default"}}),
            "config.json: process.apparmorProfile is not supported",
        ),
        (
            "kmem",
            json!({"linux": {"resources": {"memory": {"kernel": 1048576}}}}),
            "config.json: linux.resources.memory.kernel: not supported",
        ),
        (
            "nomnt",
            json!({"linux": {"namespaces": [{"type": "pid"}]}}),
            "config.json: linux.namespaces: no mount namespace",
        ),
        (
            "terminal",
            json!({"process": {"terminal": true}}),
            "config.json: process.terminal: true, but no --console-socket",
        ),
        (
            "badmount",
            json!({"mounts": [{"destination": "/proc", "type": "nosuchfs", "source": "x"}]}),
            "mounts[0] (/proc): mount -t nosuchfs x: ENODEV",
        ),
    ];
    for (id, change, expected) in cases {
        let bundle = bundle(&env, id, &["true"], |c| merge(c, &change));
        refused(&env, &bundle, id, expected);
    }
    env.finish();
}

/// Merge `change` into `config`, objects key by key.
fn merge(config: &mut serde_json::Value, change: &serde_json::Value) {
    match (config, change) {
        (serde_json::Value::Object(config), serde_json::Value::Object(change)) => {
            for (key, value) in change {
                merge(
                    config.entry(key.clone()).or_insert(serde_json::Value::Null),
                    value,
                );
            }
        }
        (config, change) => *config = change.clone(),
    }
}

#[test]
fn errors_go_to_the_engines_log_as_json_too() {
    let Some((_turn, env)) = setup() else { return };
    let bundle = bundle(&env, "logged", &["true"], |c| {
        c["root"]["path"] = json!("rootfs")
    });
    let log = env.state_root().join("runtime.log");
    let log_arg = log.to_str().expect("a UTF-8 path");
    let bundle_arg = bundle.to_str().expect("a UTF-8 path");
    let out = runtime(
        &env,
        &[
            "--log",
            log_arg,
            "--log-format",
            "json",
            "create",
            "--bundle",
            bundle_arg,
            "logged",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let text = std::fs::read_to_string(&log).expect("the log");
    let line: serde_json::Value = serde_json::from_str(text.trim()).expect("one JSON line");
    assert_eq!(line["level"], "error");
    assert_eq!(
        format!("cratebox-runtime: {}\n", line["msg"].as_str().expect("msg")),
        out.stderr
    );
    assert!(
        line["time"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{line}"
    );
    let systemd = runtime(
        &env,
        &[
            "--systemd-cgroup",
            "create",
            "--bundle",
            bundle_arg,
            "logged",
        ],
    );
    assert_eq!(systemd.code, 1);
    assert!(
        systemd.stderr.contains("--systemd-cgroup is not supported"),
        "{systemd:?}"
    );
    env.finish();
}

#[test]
fn a_config_without_a_process_is_created_but_not_started() {
    let Some((_turn, env)) = setup() else { return };
    let bundle = bundle(&env, "noprocess", &["true"], |c| {
        c.as_object_mut().expect("an object").remove("process");
    });
    // The spec: `process` is optional for create, required for start.
    ok(
        &env,
        &[
            "create",
            "--bundle",
            bundle.to_str().expect("a UTF-8 path"),
            "noprocess",
        ],
    );
    assert_eq!(state(&env, "noprocess")["status"], "created");
    let start = runtime(&env, &["start", "noprocess"]);
    assert_eq!(start.code, 1, "{start:?}");
    assert!(
        start.stderr.contains("config.json: process: missing"),
        "{start:?}"
    );
    assert_eq!(
        state(&env, "noprocess")["status"],
        "created",
        "start changed nothing"
    );
    ok(&env, &["delete", "--force", "noprocess"]);
    env.finish();
}
