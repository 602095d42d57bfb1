//! The skeleton every demo image shares: directories, `/etc` files and the
//! embedded tools, whichever source the programs come from.
//!
//! The plan is pure data ([`plan`]), so a test or a reader can see the whole
//! skeleton without building anything; [`write`] performs it.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::manifest::SourceKind;

/// `probe`, compiled static by `build.rs`: reports what a process can see.
pub(crate) const PROBE_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/probe"));
/// `breakout`, compiled static by `build.rs`: the classic chroot escape.
pub(crate) const BREAKOUT_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/breakout"));
/// `memhog`, compiled static by `build.rs`: uses memory until stopped.
pub(crate) const MEMHOG_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/memhog"));
/// `escape`, compiled static by `build.rs`: tries what hardening must stop.
pub(crate) const ESCAPE_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/escape"));
/// Changes whenever any tool's bytes change, so a cached image holding an
/// older build of them is rebuilt.
pub(crate) const TOOLS_FINGERPRINT: &str = env!("CRATEBOX_TOOLS_FINGERPRINT");

/// One directory of the skeleton.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dir {
    /// Relative to the image root.
    pub path: &'static str,
    pub mode: u32,
}

/// One regular file of the skeleton.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct File {
    /// Relative to the image root.
    pub path: String,
    pub contents: Vec<u8>,
    pub mode: u32,
}

/// Everything [`write`] creates, in order (parents before children).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    pub dirs: Vec<Dir>,
    pub files: Vec<File>,
}

/// A directory or file of the skeleton could not be written.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("cannot create {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// The directories of a Linux root, as the FHS lays them out.
///
/// `proc`, `sys` and `dev` stay empty here: the container runtime mounts the
/// kernel's filesystems onto them, and a mount needs an existing directory.
/// `tmp` is world-writable with the sticky bit (users cannot delete each
/// other's files); `root` is root's private home.
const DIRS: [(&str, u32); 16] = [
    ("bin", 0o755),
    ("sbin", 0o755),
    ("usr", 0o755),
    ("usr/bin", 0o755),
    ("usr/sbin", 0o755),
    ("usr/local", 0o755),
    ("usr/local/bin", 0o755),
    ("etc", 0o755),
    ("proc", 0o755),
    ("sys", 0o755),
    ("dev", 0o755),
    ("tmp", 0o1777),
    ("root", 0o700),
    ("home", 0o755),
    ("var", 0o755),
    ("run", 0o755),
];

/// The skeleton for an image whose programs come from `source`.
pub(crate) fn plan(source: SourceKind) -> Layout {
    let dirs = DIRS
        .iter()
        .map(|&(path, mode)| Dir { path, mode })
        .collect();
    let text = |path: &str, contents: String| File {
        path: path.to_string(),
        contents: contents.into_bytes(),
        mode: 0o644,
    };
    let tool = |path: &str, bytes: &[u8]| File {
        path: path.trim_start_matches('/').to_string(),
        contents: bytes.to_vec(),
        mode: 0o755,
    };
    let flavour = match source {
        SourceKind::Busybox => "busybox",
        SourceKind::HostBinaries => "host binaries",
    };
    let files = vec![
        // Without these, `id` and `ls -l` print numbers, and a shell has no
        // home: the user database is just two text files.
        text(
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\n\
             nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                .to_string(),
        ),
        text("etc/group", "root:x:0:\nnogroup:x:65534:\n".to_string()),
        text("etc/hostname", "cratebox\n".to_string()),
        // The easiest way for a program inside to prove it is not looking at
        // the host's root: `head -1 /etc/os-release`.
        text(
            "etc/os-release",
            format!(
                "NAME=\"cratebox demo image\"\n\
                 ID=cratebox-demo\n\
                 PRETTY_NAME=\"cratebox demo image ({flavour})\"\n"
            ),
        ),
        tool(crate::PROBE_PATH, PROBE_BYTES),
        tool(crate::BREAKOUT_PATH, BREAKOUT_BYTES),
        tool(crate::MEMHOG_PATH, MEMHOG_BYTES),
        tool(crate::ESCAPE_PATH, ESCAPE_BYTES),
    ];
    Layout { dirs, files }
}

/// Create the skeleton under `root`, which must already exist.
///
/// Modes are set explicitly after creating each entry: `mkdir(2)` and
/// `open(2)` apply the caller's umask, which would make the image depend on
/// the shell it was built from.
pub(crate) fn write(root: &Path, layout: &Layout) -> Result<(), LayoutError> {
    for dir in &layout.dirs {
        let path = root.join(dir.path);
        fs::create_dir(&path)
            .and_then(|()| fs::set_permissions(&path, fs::Permissions::from_mode(dir.mode)))
            .map_err(|source| LayoutError::Write { path, source })?;
    }
    for file in &layout.files {
        let path = root.join(&file.path);
        fs::write(&path, &file.contents)
            .and_then(|()| fs::set_permissions(&path, fs::Permissions::from_mode(file.mode)))
            .map_err(|source| LayoutError::Write { path, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_before_children() {
        let layout = plan(SourceKind::Busybox);
        for (i, dir) in layout.dirs.iter().enumerate() {
            if let Some((parent, _)) = dir.path.rsplit_once('/') {
                assert!(
                    layout.dirs[..i].iter().any(|d| d.path == parent),
                    "{} is planned before its parent",
                    dir.path
                );
            }
        }
    }

    #[test]
    fn os_release_names_the_source() {
        for (kind, expected) in [
            (SourceKind::Busybox, "(busybox)"),
            (SourceKind::HostBinaries, "(host binaries)"),
        ] {
            let layout = plan(kind);
            let release = layout
                .files
                .iter()
                .find(|f| f.path == "etc/os-release")
                .unwrap();
            let text = String::from_utf8(release.contents.clone()).unwrap();
            assert!(text.starts_with("NAME=\"cratebox demo image\"\n"), "{text}");
            assert!(text.contains(expected), "{text}");
        }
    }

    #[test]
    fn embedded_tools_are_static_elf_binaries() {
        for bytes in [PROBE_BYTES, BREAKOUT_BYTES, MEMHOG_BYTES, ESCAPE_BYTES] {
            let elf = goblin::elf::Elf::parse(bytes).unwrap();
            assert_eq!(elf.interpreter, None);
            assert!(elf.libraries.is_empty());
        }
    }
}
