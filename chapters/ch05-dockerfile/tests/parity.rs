//! The same Dockerfile, built by cratebox and by buildah (a real builder
//! from the Debian archive), must give the same image: the same file tree
//! (paths, types, modes, owners, contents, link targets) and the same
//! config. Both results are exported with skopeo and flattened with umoci,
//! so neither side is read by our own code.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{context, listing, BIN};
use cratebox_testkit::{require_root, run_tool, tool, TestEnv};
use serde_json::{json, Value};

/// The peers, each found or the test skipped (failed under CI=true).
struct Peers {
    buildah: PathBuf,
    skopeo: PathBuf,
    umoci: PathBuf,
}

fn peers() -> Option<Peers> {
    Some(Peers {
        buildah: tool("buildah")?,
        skopeo: tool("skopeo")?,
        umoci: tool("umoci")?,
    })
}

/// buildah's storage, inside the test's temp dir: vfs, so it mounts nothing.
fn storage(env: &TestEnv) -> (String, String, String) {
    let root = env.state_root().join("buildah/root").display().to_string();
    let runroot = env.state_root().join("buildah/run").display().to_string();
    let transport = format!("containers-storage:[vfs@{root}+{runroot}]");
    (root, runroot, transport)
}

fn buildah(peers: &Peers, env: &TestEnv, args: &[&str]) -> String {
    let (root, runroot, _) = storage(env);
    let mut all = vec![
        "--root",
        &root,
        "--runroot",
        &runroot,
        "--storage-driver",
        "vfs",
    ];
    all.extend_from_slice(args);
    let tmp = env.state_root().join("buildah/tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = std::process::Command::new(&peers.buildah)
        .args(&all)
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "buildah {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An exported image flattened: its file listing and its config.
struct Flat {
    files: BTreeMap<String, String>,
    config: Value,
}

/// Copy `source` (a skopeo image name) to an OCI layout and unpack it with umoci.
fn flatten(peers: &Peers, env: &TestEnv, source: &str, name: &str) -> Flat {
    let layout = env.state_root().join(format!("layout-{name}"));
    let image = format!("{}:{name}", layout.display());
    run_tool(
        &peers.skopeo,
        &["copy", "--quiet", source, &format!("oci:{image}")],
    );
    let bundle = env.state_root().join(format!("bundle-{name}"));
    run_tool(
        &peers.umoci,
        &["unpack", "--image", &image, bundle.to_str().unwrap()],
    );
    let read = |digest: &str| -> Value {
        let path = layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest = read(index["manifests"][0]["digest"].as_str().unwrap());
    let config = read(manifest["config"]["digest"].as_str().unwrap());
    Flat {
        files: listing(&bundle.join("rootfs")),
        config,
    }
}

/// The parts of a config both builders must agree on.
fn compared(config: &Value) -> Value {
    let runtime = &config["config"];
    let mut labels = runtime["Labels"].clone();
    // buildah stamps its own version on everything it builds.
    if let Some(map) = labels.as_object_mut() {
        map.remove("io.buildah.version");
        if map.is_empty() {
            labels = Value::Null;
        }
    }
    json!({
        "Env": runtime["Env"],
        "Cmd": runtime["Cmd"],
        "Entrypoint": runtime["Entrypoint"],
        "WorkingDir": runtime["WorkingDir"].as_str().filter(|d| !d.is_empty()),
        "ExposedPorts": runtime["ExposedPorts"],
        "User": runtime["User"].as_str().filter(|u| !u.is_empty()),
        "Labels": labels,
        "Volumes": runtime["Volumes"],
        "StopSignal": runtime["StopSignal"],
        "author": config["author"],
    })
}

/// Build fixture `name` with both, and compare.
fn same_image_as_buildah(name: &str) {
    if !require_root() {
        return;
    }
    let Some(peers) = peers() else {
        return;
    };
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let dir = context(&env, name);
    let tag = format!("parity-{name}");
    env.run_ok(BIN, &["build", "-t", &tag, dir.to_str().unwrap()]);

    // The same base image in buildah's storage.
    let (_, _, transport) = storage(&env);
    let demo = env.state_root().join("demo.tar");
    env.run_ok(BIN, &["save", "-o", demo.to_str().unwrap(), "demo"]);
    run_tool(
        &peers.skopeo,
        &[
            "copy",
            "--quiet",
            &format!("oci-archive:{}", demo.display()),
            &format!("{transport}localhost/demo:latest"),
        ],
    );
    buildah(
        &peers,
        &env,
        &[
            "bud",
            "--quiet",
            "--isolation",
            "chroot",
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
            "-t",
            &tag,
            dir.to_str().unwrap(),
        ],
    );

    let ours_archive = env.state_root().join("ours.tar");
    env.run_ok(BIN, &["save", "-o", ours_archive.to_str().unwrap(), &tag]);
    let ours = flatten(
        &peers,
        &env,
        &format!("oci-archive:{}", ours_archive.display()),
        "ours",
    );
    let theirs = flatten(
        &peers,
        &env,
        &format!("{transport}localhost/{tag}:latest"),
        "theirs",
    );

    let mut their_files = theirs.files.clone();
    // buildah leaves the mount points of the /etc/hosts and
    // /etc/resolv.conf it gives RUN steps behind, as empty files.
    for placeholder in ["etc/hosts", "etc/resolv.conf"] {
        let empty = "file 755 0:0 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        if their_files.get(placeholder).map(String::as_str) == Some(empty)
            && !ours.files.contains_key(placeholder)
        {
            their_files.remove(placeholder);
        }
    }
    let differences: Vec<String> = ours
        .files
        .keys()
        .chain(their_files.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|path| ours.files.get(*path) != their_files.get(*path))
        .map(|path| {
            format!(
                "{path}: cratebox {:?}, buildah {:?}",
                ours.files.get(path),
                their_files.get(path)
            )
        })
        .collect();
    assert!(
        differences.is_empty(),
        "file trees differ:\n{}",
        differences.join("\n")
    );
    assert_eq!(compared(&ours.config), compared(&theirs.config));
    // Not vacuous: the images hold what the Dockerfile put there.
    assert!(ours.files.len() > 50, "{} files", ours.files.len());

    // buildah's storage (vfs) holds no mounts: it goes with the temp dir.
    env.finish();
}

#[test]
fn notes_server_dockerfile_same_as_buildah() {
    same_image_as_buildah("notes-server");
}

#[test]
fn copy_add_and_metadata_same_as_buildah() {
    same_image_as_buildah("parity-files");
}

#[test]
fn multi_stage_same_as_buildah() {
    same_image_as_buildah("parity-stages");
}
