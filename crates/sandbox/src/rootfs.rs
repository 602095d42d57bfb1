//! Checking the directory a container will use as its root.

use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a directory cannot be a container's root.
#[derive(Debug, Error)]
pub enum RootfsError {
    /// Nothing at that path.
    #[error("rootfs {0} does not exist: pass --rootfs DIR with an unpacked root file system, or leave --rootfs out to use the demo image")]
    Missing(PathBuf),
    /// A file, not a directory.
    #[error("rootfs {0} is not a directory: pass --rootfs DIR with an unpacked root file system")]
    NotADirectory(PathBuf),
    /// An empty directory has no programs to run.
    #[error("rootfs {0} is empty: unpack a root file system into it (e.g. `tar -xf rootfs.tar -C {0}`), or leave --rootfs out to use the demo image")]
    Empty(PathBuf),
    /// A directory on the way to the rootfs is closed to other users, so a
    /// container root mapped to an unprivileged uid cannot reach it.
    #[error("with --userns the container's root is an unprivileged user on the host, and it cannot enter {dir} (mode {mode:o}): run `chmod o+x {dir}`, or leave out --userns")]
    ClosedToOthers {
        /// The directory that is not searchable by others.
        dir: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Could not be read.
    #[error("cannot read rootfs {path}: {source}")]
    Unreadable {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The absolute, symlink-free path of `rootfs` once it is known to be a
/// non-empty directory. pivot_root(2) and the breakout test both care
/// about the real path, so resolve it once here.
pub fn validate_rootfs(rootfs: &Path) -> Result<PathBuf, RootfsError> {
    let meta = std::fs::metadata(rootfs).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RootfsError::Missing(rootfs.to_path_buf()),
        _ => RootfsError::Unreadable {
            path: rootfs.to_path_buf(),
            source: e,
        },
    })?;
    if !meta.is_dir() {
        return Err(RootfsError::NotADirectory(rootfs.to_path_buf()));
    }
    let unreadable = |source| RootfsError::Unreadable {
        path: rootfs.to_path_buf(),
        source,
    };
    let mut entries = std::fs::read_dir(rootfs).map_err(unreadable)?;
    if entries.next().is_none() {
        return Err(RootfsError::Empty(rootfs.to_path_buf()));
    }
    std::fs::canonicalize(rootfs).map_err(unreadable)
}

/// The absolute path of an existing (possibly empty) directory that a
/// file system will be mounted on.
pub fn mount_point(dir: &Path) -> Result<PathBuf, RootfsError> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {
            std::fs::canonicalize(dir).map_err(|source| RootfsError::Unreadable {
                path: dir.to_path_buf(),
                source,
            })
        }
        Ok(_) => Err(RootfsError::NotADirectory(dir.to_path_buf())),
        Err(_) => Err(RootfsError::Missing(dir.to_path_buf())),
    }
}

/// With a user namespace, the container's root is just another user to the
/// host's files: every directory from `/` down to the rootfs must let
/// "others" search it (the x bit), or even the first mount fails with
/// EACCES. Say which one does not, up front.
pub fn check_reachable_by_others(rootfs: &Path) -> Result<(), RootfsError> {
    use std::os::unix::fs::PermissionsExt;
    for dir in rootfs.ancestors() {
        let mode = std::fs::metadata(dir)
            .map_err(|source| RootfsError::Unreadable {
                path: dir.to_path_buf(),
                source,
            })?
            .permissions()
            .mode();
        if mode & 0o001 == 0 {
            return Err(RootfsError::ClosedToOthers {
                dir: dir.to_path_buf(),
                mode: mode & 0o7777,
            });
        }
    }
    Ok(())
}
