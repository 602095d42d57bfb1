//! Publishing: `ensure()` builds once, reuses a good image, rebuilds a damaged
//! one or one from a worse or other source, and stays correct when called
//! concurrently.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use cratebox_demo_image::{
    current_identity, ensure, ensure_with, identity, verify, DemoError, SourceChoice, SourceKind,
};
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

/// Whether this host has a static busybox; without one, the tests that need
/// it say they are skipped (and fail under CI, which installs it).
fn busybox_here() -> bool {
    common::busybox_source().is_some()
}

/// The source the published image under `state` was built from.
fn built_from(state: &Path) -> SourceKind {
    verify(&state.join("demo/rootfs"))
        .expect("the published image verifies")
        .source
}

// The README's first command on a host without busybox-static, then again
// once it is installed: the image of host programs must not stay.
#[test]
fn a_host_image_is_rebuilt_from_busybox_once_there_is_one() {
    if !busybox_here() {
        return;
    }
    let state = TempDir::new().unwrap();
    let rootfs = ensure_with(state.path(), SourceChoice::Host).unwrap();
    assert_eq!(built_from(state.path()), SourceKind::HostBinaries);
    let host_identity = identity(&rootfs).unwrap();
    let marker = leave_marker(&rootfs);

    let again = ensure_with(state.path(), SourceChoice::Auto).unwrap();
    assert_eq!(again, rootfs);
    assert_eq!(built_from(state.path()), SourceKind::Busybox);
    assert!(!marker.exists(), "the host image was kept");
    assert!(again.join("bin/busybox").is_file());
    assert_ne!(identity(&again).unwrap(), host_identity);
    assert_holds_only(state.path(), &["demo"]);
}

#[test]
fn an_image_of_the_source_asked_for_is_kept_and_another_is_rebuilt() {
    if !busybox_here() {
        return;
    }
    let state = TempDir::new().unwrap();
    let rootfs = ensure_with(state.path(), SourceChoice::Busybox).unwrap();
    let busybox_identity = identity(&rootfs).unwrap();
    let marker = leave_marker(&rootfs);
    // auto never trades busybox for anything else.
    ensure_with(state.path(), SourceChoice::Auto).unwrap();
    assert!(marker.exists(), "auto rebuilt a busybox image");
    assert_eq!(identity(&rootfs).unwrap(), busybox_identity);

    ensure_with(state.path(), SourceChoice::Host).unwrap();
    assert_eq!(built_from(state.path()), SourceKind::HostBinaries);
    assert!(!marker.exists(), "asked for host, kept busybox");
    let marker = leave_marker(&rootfs);
    ensure_with(state.path(), SourceChoice::Host).unwrap();
    assert!(marker.exists(), "a host image was rebuilt for host");

    ensure_with(state.path(), SourceChoice::Busybox).unwrap();
    assert_eq!(built_from(state.path()), SourceKind::Busybox);
    // The same source on the same host gives the same manifest.
    assert_eq!(identity(&rootfs).unwrap(), busybox_identity);
    assert_holds_only(state.path(), &["demo"]);
}

#[test]
fn ensure_rebuilds_an_image_built_for_another_list_of_commands() {
    let state = TempDir::new().unwrap();
    let rootfs = ensure(state.path()).unwrap();
    let before = identity(&rootfs).unwrap();
    let marker = leave_marker(&rootfs);
    // What a cratebox from before `tr` was on the list would have written.
    let manifest = state.path().join("demo/manifest.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest).unwrap()).unwrap();
    let commands = json["commands"].as_array_mut().unwrap();
    commands.retain(|name| name != "tr");
    fs::write(&manifest, json.to_string()).unwrap();
    let error = verify(&rootfs).unwrap_err();
    assert!(
        error.to_string().contains("another list of commands"),
        "{error}"
    );

    ensure(state.path()).unwrap();
    assert!(!marker.exists(), "an image for another list was reused");
    assert_eq!(identity(&rootfs).unwrap(), before);
    assert_holds_only(state.path(), &["demo"]);
}

#[test]
fn the_identity_is_the_digest_of_the_manifest() {
    let state = TempDir::new().unwrap();
    let rootfs = ensure(state.path()).unwrap();
    let id = identity(&rootfs).unwrap();
    let hex = id.strip_prefix("sha256:").expect("a sha256 digest");
    assert_eq!(hex.len(), 64, "{id}");
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    // Reusing the image keeps it; a container's files in /tmp do not count.
    leave_marker(&rootfs);
    ensure(state.path()).unwrap();
    assert_eq!(identity(&rootfs).unwrap(), id);
    let error = identity(&state.path().join("nowhere/rootfs")).unwrap_err();
    assert!(error.to_string().contains("manifest.json"), "{error}");
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

#[test]
fn current_identity_reads_only_the_manifest() {
    let state = TempDir::new().unwrap();
    assert_eq!(current_identity(state.path()).unwrap(), None);
    let rootfs = ensure(state.path()).unwrap();
    let id = identity(&rootfs).unwrap();
    assert_eq!(current_identity(state.path()).unwrap(), Some(id.clone()));
    // The tree is not walked: a damaged one still reports the manifest's
    // identity (a copy of it, as the image store keeps, is unaffected)...
    fs::remove_file(rootfs.join("bin/sh")).unwrap();
    assert_eq!(current_identity(state.path()).unwrap(), Some(id));
    // ...but a manifest that is not today's is not current.
    fs::write(state.path().join("demo/manifest.json"), "{}").unwrap();
    assert_eq!(current_identity(state.path()).unwrap(), None);
}
