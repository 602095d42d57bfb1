//! The cache: `ensure()` builds once, reuses a good image, rebuilds a damaged
//! one, and stays correct when called concurrently.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use cratebox_demo_image::{ensure, verify, DemoError};
use tempfile::TempDir;

use common::assert_holds_only;

/// A file a container might have left in /tmp: harmless to the image, and
/// gone only if the image was rebuilt.
fn leave_marker(rootfs: &Path) -> PathBuf {
    let marker = rootfs.join("tmp/marker");
    fs::write(&marker, "left by a container").expect("cannot write the marker");
    marker
}

#[test]
fn ensure_builds_once_then_reuses_the_image() {
    let state = TempDir::new().unwrap();
    let rootfs = ensure(state.path()).unwrap();
    assert_eq!(rootfs, state.path().join("demo/rootfs"));
    verify(&rootfs).unwrap();
    let inode = rootfs.metadata().unwrap().ino();
    let marker = leave_marker(&rootfs);

    let again = ensure(state.path()).unwrap();
    assert_eq!(again, rootfs);
    assert_eq!(again.metadata().unwrap().ino(), inode);
    assert!(marker.exists(), "a good image was rebuilt");
    assert_holds_only(state.path(), &["demo"]);
    assert_holds_only(&state.path().join("demo"), &["manifest.json", "rootfs"]);
}

#[test]
fn ensure_rebuilds_when_bin_sh_is_deleted() {
    let state = TempDir::new().unwrap();
    let rootfs = ensure(state.path()).unwrap();
    let marker = leave_marker(&rootfs);
    fs::remove_file(rootfs.join("bin/sh")).unwrap();
    assert!(verify(&rootfs).is_err());

    let rebuilt = ensure(state.path()).unwrap();
    assert!(rebuilt.join("bin/sh").symlink_metadata().is_ok());
    assert!(!marker.exists(), "the damaged image was reused");
    verify(&rebuilt).unwrap();
    assert_holds_only(state.path(), &["demo"]);
}

#[test]
fn ensure_rebuilds_when_the_manifest_is_garbage() {
    let state = TempDir::new().unwrap();
    let rootfs = ensure(state.path()).unwrap();
    let marker = leave_marker(&rootfs);
    let manifest = state.path().join("demo/manifest.json");
    fs::write(&manifest, "{ this is not json").unwrap();

    ensure(state.path()).unwrap();
    assert!(
        !marker.exists(),
        "an image with a broken manifest was reused"
    );
    let text = fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("\"tools_fingerprint\""), "{text}");
    assert_holds_only(state.path(), &["demo"]);
}

#[test]
fn ensure_rebuilds_an_image_of_another_format() {
    let state = TempDir::new().unwrap();
    let rootfs = ensure(state.path()).unwrap();
    let marker = leave_marker(&rootfs);
    let manifest = state.path().join("demo/manifest.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest).unwrap()).unwrap();
    json["format"] = serde_json::json!(0);
    fs::write(&manifest, json.to_string()).unwrap();
    assert!(verify(&rootfs).is_err());

    ensure(state.path()).unwrap();
    assert!(!marker.exists(), "an image of an old format was reused");
    assert_holds_only(state.path(), &["demo"]);
}

#[test]
fn ensure_sweeps_what_a_crashed_build_left() {
    let state = TempDir::new().unwrap();
    for leftover in [".demo-build-1-2", ".demo-trash-3-4"] {
        fs::create_dir_all(state.path().join(leftover).join("rootfs/bin")).unwrap();
    }
    ensure(state.path()).unwrap();
    assert_holds_only(state.path(), &["demo"]);
}

#[test]
fn ensure_names_the_path_and_the_fix_when_the_state_root_is_unusable() {
    let tmp = TempDir::new().unwrap();
    // As root every directory is writable, so use a path below a regular
    // file: no one can create a directory there.
    let file = tmp.path().join("file");
    fs::write(&file, "").unwrap();
    let state_root = file.join("x");

    let error = ensure(&state_root).unwrap_err();
    assert!(matches!(error, DemoError::State { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "cannot create the demo image under {}: not a directory \
             (run as root or set CRATEBOX_ROOT to a writable directory)",
            state_root.display()
        )
    );
    assert_holds_only(tmp.path(), &["file"]);
}

#[test]
fn two_threads_share_one_build() {
    let state = TempDir::new().unwrap();
    let root = state.path().join("fresh");
    let results: Vec<Result<PathBuf, DemoError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2).map(|_| scope.spawn(|| ensure(&root))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for result in &results {
        assert_eq!(result.as_ref().unwrap(), &root.join("demo/rootfs"));
    }
    verify(&root.join("demo/rootfs")).unwrap();
    assert_holds_only(state.path(), &["fresh"]);
    assert_holds_only(&root, &["demo"]);
}
