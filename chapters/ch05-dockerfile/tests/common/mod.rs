//! What the chapter 5 tests share: making build contexts from fixtures,
//! and reading an unpacked image back as a listing to compare.

#![allow(clippy::unwrap_used, dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use cratebox_testkit::TestEnv;

pub const BIN: &str = env!("CARGO_BIN_EXE_ch05-dockerfile");

/// The fixtures directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A build context in the test's state root: a copy of `fixtures/NAME`,
/// where every directory called `X.tar.d`, `X.tar.gz.d`, `X.tar.bz2.d` or
/// `X.tar.xz.d` becomes that archive of its contents (the notes server's
/// server.tar.gz). Git does not keep binary tarballs well, so they are
/// made here.
pub fn context(env: &TestEnv, name: &str) -> PathBuf {
    let dest = env.state_root().join(format!("context-{name}"));
    copy_dir(&fixtures().join(name), &dest);
    for entry in fs::read_dir(&dest).unwrap().flatten() {
        let path = entry.path();
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(archive) = file_name.strip_suffix(".d") else {
            continue;
        };
        let file = fs::File::create(dest.join(archive)).unwrap();
        let writer: Box<dyn std::io::Write> = if archive.ends_with(".tar.gz") {
            Box::new(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::default(),
            ))
        } else if archive.ends_with(".tar.bz2") {
            Box::new(bzip2::write::BzEncoder::new(
                file,
                bzip2::Compression::default(),
            ))
        } else if archive.ends_with(".tar.xz") {
            Box::new(xz2::write::XzEncoder::new(file, 6))
        } else {
            Box::new(file)
        };
        let mut tar = tar::Builder::new(writer);
        tar.mode(tar::HeaderMode::Deterministic);
        tar.append_dir_all(".", &path).unwrap();
        // Finishing the tar drops the encoder, which writes its trailer.
        tar.into_inner().unwrap().flush().unwrap();
        fs::remove_dir_all(&path).unwrap();
    }
    dest
}

/// Copy a directory tree, modes and symlinks kept.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let meta = fs::symlink_metadata(&src).unwrap();
        if meta.is_dir() {
            copy_dir(&src, &dst);
        } else if meta.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&src).unwrap(), &dst).unwrap();
        } else {
            fs::copy(&src, &dst).unwrap();
        }
        if !meta.is_symlink() {
            fs::set_permissions(&dst, fs::Permissions::from_mode(meta.mode() & 0o7777)).unwrap();
        }
    }
}

/// Every entry under `root`: path → "type mode uid:gid detail", where
/// detail is a file's sha256 or a link's target. Times are left out: two
/// builds never agree on them.
pub fn listing(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).unwrap();
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        let kind = meta.file_type();
        let detail = if kind.is_symlink() {
            format!("-> {}", fs::read_link(&path).unwrap().display())
        } else if kind.is_file() {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(fs::read(&path).unwrap()))
        } else {
            String::new()
        };
        let type_name = if kind.is_dir() {
            "dir"
        } else if kind.is_symlink() {
            "link"
        } else if kind.is_file() {
            "file"
        } else {
            "other"
        };
        out.insert(
            rel,
            format!(
                "{type_name} {:o} {}:{} {detail}",
                meta.mode() & 0o7777,
                meta.uid(),
                meta.gid()
            ),
        );
        if kind.is_dir() {
            walk(root, &path, out);
        }
    }
}

/// How many steps a build's output says came from the cache.
pub fn cache_hits(output: &str) -> usize {
    output.matches("---> Using cache").count()
}
