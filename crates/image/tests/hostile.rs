//! Layers built to attack the machine that unpacks them. Each must be
//! refused with an error naming the offending entry, and must leave
//! nothing outside the destination: a directory `outside/`, next to the
//! destination, is where each attack aims, and it must stay as it was.
//!
//! The tar crate's builder refuses to write such names, so the headers
//! here are written by hand, and each test first checks that its tar
//! really holds the hostile name. No root needed: entries are owned by
//! whoever runs the test.

// Test setup fails loudly: an unwrap here is an assertion.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use cratebox_image::unpack::unpack_layer;
use tar::EntryType;

/// One tar entry, every field as raw bytes.
struct Raw {
    name: Vec<u8>,
    kind: EntryType,
    link: Vec<u8>,
    data: Vec<u8>,
}

fn file(name: &str, data: &str) -> Raw {
    raw(name, EntryType::Regular, "", data)
}

fn symlink(name: &str, target: &str) -> Raw {
    raw(name, EntryType::Symlink, target, "")
}

fn hardlink(name: &str, target: &str) -> Raw {
    raw(name, EntryType::Link, target, "")
}

fn raw(name: &str, kind: EntryType, link: &str, data: &str) -> Raw {
    let (name, link, data) = (name.into(), link.into(), data.into());
    Raw {
        name,
        kind,
        link,
        data,
    }
}

/// A tar holding exactly these names, whatever they are.
fn hostile_tar(entries: &[Raw]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        let old = header.as_old_mut();
        old.name[..entry.name.len()].copy_from_slice(&entry.name);
        old.linkname[..entry.link.len()].copy_from_slice(&entry.link);
        header.set_entry_type(entry.kind);
        header.set_size(entry.data.len() as u64);
        header.set_mode(0o644);
        header.set_uid(nix::unistd::geteuid().as_raw().into());
        header.set_gid(nix::unistd::getegid().as_raw().into());
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        tar.append(&header, &entry.data[..]).unwrap();
    }
    let bytes = tar.into_inner().unwrap();
    // The names went in unaltered.
    let mut archive = tar::Archive::new(&bytes[..]);
    let names: Vec<Vec<u8>> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path_bytes().into_owned())
        .collect();
    let wanted: Vec<Vec<u8>> = entries.iter().map(|e| e.name.clone()).collect();
    assert_eq!(names, wanted, "the tar does not hold the hostile names");
    bytes
}

/// A temp dir with `dest/` to unpack into and `outside/` to aim at.
struct Scene {
    temp: tempfile::TempDir,
    dest: PathBuf,
    outside: PathBuf,
}

impl Scene {
    fn new() -> Scene {
        let temp = tempfile::tempdir().unwrap();
        let (dest, outside) = (temp.path().join("dest"), temp.path().join("outside"));
        fs::create_dir(&dest).unwrap();
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("secret"), "secret").unwrap();
        Scene {
            temp,
            dest,
            outside,
        }
    }

    /// Unpack `tar`, expecting a refusal that names `entry`; then check
    /// nothing outside `dest` changed. Returns the error text.
    fn refuse(self, tar: &[u8], entry: &str) -> String {
        let error = unpack_layer(tar, &self.dest)
            .expect_err("a hostile layer was unpacked")
            .to_string();
        eprintln!("refused: {error}");
        assert!(
            error.contains(&format!("{entry:?}")),
            "{error:?} does not name {entry:?}"
        );
        let mut around: Vec<_> = fs::read_dir(self.temp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        around.sort();
        assert_eq!(
            around,
            ["dest", "outside"],
            "something appeared next to dest"
        );
        let outside: Vec<_> = fs::read_dir(&self.outside)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(outside, ["secret"], "something appeared in outside/");
        let secret = self.outside.join("secret");
        assert_eq!(fs::read_to_string(&secret).unwrap(), "secret");
        assert_eq!(
            fs::metadata(&secret).unwrap().nlink(),
            1,
            "secret was linked"
        );
        self.temp.close().unwrap();
        error
    }
}

/// `outside/` as seen from the file system root, without the leading `/`.
fn from_root(path: &Path) -> String {
    path.to_str().unwrap().trim_start_matches('/').to_string()
}

#[test]
fn dotdot_path_is_refused() {
    let scene = Scene::new();
    let tar = hostile_tar(&[file("../outside/escaped", "x")]);
    let error = scene.refuse(&tar, "../outside/escaped");
    assert!(error.contains(".. component"), "{error}");
}

#[test]
fn absolute_path_is_refused_not_stripped() {
    let scene = Scene::new();
    let target = format!("{}/escaped", scene.outside.display());
    let tar = hostile_tar(&[file(&target, "x")]);
    let error = scene.refuse(&tar, &target);
    assert!(error.contains("is absolute"), "{error}");
}

#[test]
fn write_through_an_absolute_symlink_is_refused() {
    let scene = Scene::new();
    let outside = scene.outside.to_str().unwrap().to_string();
    let tar = hostile_tar(&[symlink("evil", &outside), file("evil/escaped", "x")]);
    let error = scene.refuse(&tar, "evil/escaped");
    assert!(error.contains("is a symlink"), "{error}");
}

#[test]
fn write_through_a_relative_symlink_is_refused() {
    let scene = Scene::new();
    // Enough `..` to climb from dest to /, then down to outside/.
    let depth = scene.dest.components().count() - 1;
    let up = vec![".."; depth].join("/");
    let entry = format!("up/{}/escaped", from_root(&scene.outside));
    let tar = hostile_tar(&[symlink("up", &up), file(&entry, "x")]);
    let error = scene.refuse(&tar, &entry);
    assert!(error.contains("is a symlink"), "{error}");
}

#[test]
fn write_through_a_nested_relative_symlink_is_refused() {
    let scene = Scene::new();
    let tar = hostile_tar(&[
        raw("a", EntryType::Directory, "", ""),
        symlink("a/out", "../../outside"),
        file("a/out/escaped", "x"),
    ]);
    scene.refuse(&tar, "a/out/escaped");
}

#[test]
fn hardlink_to_an_absolute_target_is_refused() {
    let scene = Scene::new();
    let secret = format!("{}/secret", scene.outside.display());
    let tar = hostile_tar(&[hardlink("stolen", &secret)]);
    let error = scene.refuse(&tar, "stolen");
    assert!(error.contains("target is absolute"), "{error}");
}

#[test]
fn hardlink_with_a_dotdot_target_is_refused() {
    let scene = Scene::new();
    let tar = hostile_tar(&[hardlink("stolen", "../outside/secret")]);
    let error = scene.refuse(&tar, "stolen");
    assert!(error.contains(".. component"), "{error}");
}

#[test]
fn hardlink_through_a_symlink_is_refused() {
    let scene = Scene::new();
    let outside = scene.outside.to_str().unwrap().to_string();
    let tar = hostile_tar(&[symlink("evil", &outside), hardlink("stolen", "evil/secret")]);
    let error = scene.refuse(&tar, "stolen");
    assert!(error.contains("through a symlink"), "{error}");
}

#[test]
fn hardlink_to_a_missing_target_is_refused() {
    let scene = Scene::new();
    let tar = hostile_tar(&[hardlink("link", "not-there")]);
    let error = scene.refuse(&tar, "link");
    assert!(
        error.contains("not a regular file earlier in this layer"),
        "{error}"
    );
}

#[test]
fn whiteouts_for_dot_and_dotdot_are_refused() {
    for name in [".wh..", ".wh...", "etc/.wh..", "etc/.wh..."] {
        let scene = Scene::new();
        let tar = hostile_tar(&[file(name, "")]);
        let error = scene.refuse(&tar, name);
        assert!(error.contains("whiteout for no real name"), "{error}");
    }
}

#[test]
fn a_zero_device_posing_as_a_whiteout_is_refused() {
    let scene = Scene::new();
    let tar = hostile_tar(&[
        raw("etc", EntryType::Directory, "", ""),
        raw("etc/passwd", EntryType::Char, "", ""),
    ]);
    scene.refuse(&tar, "etc/passwd");
}

/// A valid layer: two files, the second big enough to span many blocks.
fn good_tar() -> Vec<u8> {
    // Pseudo-random letters, so that gzip cannot shrink them to nothing.
    let mut state = 1u32;
    let noise: String = (0..20_000)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from(b'a' + (state >> 16) as u8 % 26)
        })
        .collect();
    hostile_tar(&[file("first", "one"), file("second", &noise)])
}

#[test]
fn truncated_gzip_is_reported_as_truncated() {
    let scene = Scene::new();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&good_tar()).unwrap();
    let gz = gz.finish().unwrap();
    let error = scene.refuse(&gz[..gz.len() / 2], "second");
    assert!(error.contains("truncated or corrupt"), "{error}");
}

#[test]
fn truncated_tar_is_reported_as_truncated() {
    let scene = Scene::new();
    let tar = good_tar();
    let error = scene.refuse(&tar[..2048], "second");
    assert!(error.contains("truncated or corrupt"), "{error}");
}

#[test]
fn tar_without_its_end_blocks_is_reported_as_truncated() {
    let scene = Scene::new();
    let tar = good_tar();
    let error = scene.refuse(&tar[..tar.len() - 1024], "second");
    assert!(error.contains("truncated"), "{error}");
}

#[test]
fn corrupt_tar_header_is_reported_as_corrupt() {
    let scene = Scene::new();
    let mut tar = good_tar();
    // The second header starts after the first's header and data block.
    tar[1024 + 3] ^= 0x55;
    let error = scene.refuse(&tar, "first");
    assert!(error.contains("truncated or corrupt"), "{error}");
    assert!(error.contains("checksum"), "{error}");
}
