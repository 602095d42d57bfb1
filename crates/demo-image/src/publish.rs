//! Publishing the demo image: build once, publish atomically, rebuild when
//! damaged or when a better source appears.
//!
//! The state directory holds at most one published image:
//!
//! ```text
//! <state root>/
//!     demo/                         the published image (rootfs/ + manifest.json)
//!     .demo-build-<pid>-<nanos>/    a build in progress, never used by anyone else
//!     .demo-trash-<pid>-<nanos>/    a damaged image on its way out
//! ```
//!
//! Two rules make it safe for several processes at once:
//!
//! - **Nobody sees half an image.** A build happens in a private staging
//!   directory, is flushed to disk, and becomes `demo/` in one `rename(2)`,
//!   which is atomic: a reader finds either no `demo/` or a complete one.
//!   Likewise a damaged image is first renamed out of the way, then deleted.
//! - **One builder at a time.** Builders take an exclusive `flock(2)` on the
//!   state directory itself. Without it two processes that both found the
//!   image damaged could race: the second would throw away the image the
//!   first had just published, while the first was already handing its path
//!   to a container. Readers of a good image take no lock, because a
//!   published image is never modified in place.
//!
//! The lock is on the directory rather than a lock file so that the state
//! directory holds nothing but images; `flock(2)` is released by the kernel
//! when the process dies, so a crash cannot leave it stuck.
//!
//! A published image is replaced, by the same build-and-rename, when it
//! fails [`crate::verify`] (damaged, or made by a cratebox with another
//! format, other embedded tools or another list of commands) and when it
//! does not answer the caller's [`SourceChoice`] (see
//! [`SourceChoice::keeps`]): built from the host's programs while a static
//! busybox is now there, or from another source than the one asked for.

use std::env;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::source::SourceChoice;
use crate::{build, busybox, manifest, DemoError, Source};

/// The state directory when `$CRATEBOX_ROOT` is not set.
const DEFAULT_STATE_ROOT: &str = "/var/lib/cratebox";
/// The published image, under the state root.
const DEMO_DIR: &str = "demo";
/// The root filesystem, under the image directory.
const ROOTFS_DIR: &str = "rootfs";
/// Prefixes of the private directories described in the module docs.
const STAGING_PREFIX: &str = ".demo-build-";
const TRASH_PREFIX: &str = ".demo-trash-";

/// `$CRATEBOX_ROOT` when set and not empty, else `/var/lib/cratebox`.
pub fn state_root() -> PathBuf {
    match env::var_os("CRATEBOX_ROOT") {
        Some(root) if !root.is_empty() => PathBuf::from(root),
        _ => PathBuf::from(DEFAULT_STATE_ROOT),
    }
}

/// The path of the demo rootfs under `state_root` (`state_root/demo/rootfs`),
/// building it first when it is missing, damaged or from a worse source
/// than the host now has; `$CRATEBOX_DEMO_SOURCE` may ask for a source (see
/// [`SourceChoice::from_env`]).
///
/// Safe when several processes (or threads) call it at once; never returns
/// or exposes a half-built rootfs.
pub fn ensure(state_root: &Path) -> Result<PathBuf, DemoError> {
    ensure_with(state_root, SourceChoice::from_env()?)
}

/// [`ensure`], with the source chosen by the caller instead of the
/// environment.
pub fn ensure_with(state_root: &Path, choice: SourceChoice) -> Result<PathBuf, DemoError> {
    let image = state_root.join(DEMO_DIR);
    let rootfs = image.join(ROOTFS_DIR);

    // The common case: a published image that still checks out.
    if answers(&rootfs, choice) {
        return Ok(rootfs);
    }

    // Create the state directory, then wait for any other builder.
    create_state_root(state_root)?;
    let _lock = lock(state_root)?;

    // Someone else may have built it while we waited.
    if answers(&rootfs, choice) {
        return Ok(rootfs);
    }

    // Find the source before throwing anything away: asking for busybox on
    // a host without one must leave the image there alone.
    let source = choice.source()?;

    // We hold the lock, so staging and trash directories are from builders
    // that crashed: nobody else is using them.
    sweep_leftovers(state_root)?;

    // Move the old image aside before deleting it, so no reader ever sees
    // a half-deleted one.
    if image.symlink_metadata().is_ok() {
        discard(state_root, &image)?;
    }

    // Build off to the side, flush it, and publish it with one rename.
    let staging = state_root.join(unique_name(STAGING_PREFIX));
    if let Err(error) = build_staged(&staging, &source) {
        // Best effort: the next ensure() sweeps whatever this leaves.
        let _ = fs::remove_dir_all(&staging);
        return Err(error);
    }
    publish(state_root, &staging, &image)?;
    Ok(rootfs)
}

// ANCHOR: current_identity
/// The identity of the published image when it is today's and from a
/// source `$CRATEBOX_DEMO_SOURCE` accepts; `None` when [`ensure`] would
/// build another. Unlike `ensure`, this reads the manifest alone and checks
/// no file of the tree, so it is cheap enough for every container start of
/// a program that uses a *copy* of the tree (chapter 4's image store), and
/// that only needs to know whether its copy is still the one `ensure`
/// would give.
pub fn current_identity(state_root: &Path) -> Result<Option<String>, DemoError> {
    let choice = SourceChoice::from_env()?;
    let rootfs = state_root.join(DEMO_DIR).join(ROOTFS_DIR);
    Ok(match manifest::current(&rootfs) {
        Ok((manifest, identity)) => choice
            .keeps(manifest.source, || busybox::find_static().is_some())
            .then_some(identity),
        Err(_) => None,
    })
}
// ANCHOR_END: current_identity

/// Whether the image at `rootfs` is intact and from a source `choice`
/// accepts.
fn answers(rootfs: &Path, choice: SourceChoice) -> bool {
    match manifest::verify(rootfs) {
        Ok(manifest) => choice.keeps(manifest.source, || busybox::find_static().is_some()),
        Err(_) => false,
    }
}

/// Create the state directory (and its parents) with mode 0755 if missing.
fn create_state_root(state_root: &Path) -> Result<(), DemoError> {
    if state_root.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(state_root)
        // The umask may have removed bits from the mode asked for above.
        .and_then(|()| fs::set_permissions(state_root, fs::Permissions::from_mode(0o755)))
        .map_err(state_error("create", state_root))
}

/// Take the builders' lock: an exclusive `flock(2)` on the state directory,
/// held until the returned guard is dropped.
fn lock(state_root: &Path) -> Result<Flock<fs::File>, DemoError> {
    // Opening a directory read-only is allowed; the fd is only for flock.
    let directory = fs::File::open(state_root).map_err(state_error("lock", state_root))?;
    Flock::lock(directory, FlockArg::LockExclusive)
        .map_err(|(_, errno)| state_error("lock", state_root)(io::Error::from(errno)))
}

/// Delete staging and trash directories left by builders that crashed.
fn sweep_leftovers(state_root: &Path) -> Result<(), DemoError> {
    let entries = fs::read_dir(state_root).map_err(state_error("read", state_root))?;
    for entry in entries {
        let entry = entry.map_err(state_error("read", state_root))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(STAGING_PREFIX) || name.starts_with(TRASH_PREFIX) {
            let path = entry.path();
            fs::remove_dir_all(&path).map_err(state_error("clean up", &path))?;
        }
    }
    Ok(())
}

/// Rename an image that is damaged or from the wrong source to a trash
/// name, then delete it.
fn discard(state_root: &Path, image: &Path) -> Result<(), DemoError> {
    let trash = state_root.join(unique_name(TRASH_PREFIX));
    match fs::rename(image, &trash) {
        Ok(()) => fs::remove_dir_all(&trash).map_err(state_error("remove", &trash)),
        // Already gone: nothing to discard.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(state_error("replace", image)(e)),
    }
}

/// Build a complete image (rootfs and manifest) in `staging` and flush it.
fn build_staged(staging: &Path, source: &Source) -> Result<(), DemoError> {
    fs::DirBuilder::new()
        .mode(0o755)
        .create(staging)
        .map_err(state_error("create", staging))?;
    build(&staging.join(ROOTFS_DIR), source)?;
    sync_tree(staging)
}

/// Make `staging` the published `image`.
fn publish(state_root: &Path, staging: &Path, image: &Path) -> Result<(), DemoError> {
    match fs::rename(staging, image) {
        Ok(()) => {}
        // rename(2): a non-empty directory at the target makes it fail with
        // ENOTEMPTY (or EEXIST). Another process published first; its image
        // is as good as ours, so keep it.
        Err(e) if is_occupied(&e) => {
            fs::remove_dir_all(staging).map_err(state_error("clean up", staging))?;
            return crate::verify(&image.join(ROOTFS_DIR)).map(|_| ());
        }
        Err(e) => return Err(state_error("publish", image)(e)),
    }
    // The rename is an entry in the state directory: flush that too, or a
    // crash could forget it even though the image's files are on disk.
    sync(state_root).map_err(state_error("flush", state_root))
}

fn is_occupied(error: &io::Error) -> bool {
    let code = error.raw_os_error();
    code == Some(Errno::ENOTEMPTY as i32) || code == Some(Errno::EEXIST as i32)
}

/// `fsync(2)` every file and directory under `root`: file contents, and the
/// directory entries that name them. Symlinks live in their directory's
/// entries, so syncing directories covers them.
fn sync_tree(root: &Path) -> Result<(), DemoError> {
    let metadata = root
        .symlink_metadata()
        .map_err(state_error("flush", root))?;
    if metadata.is_dir() {
        for entry in fs::read_dir(root).map_err(state_error("flush", root))? {
            sync_tree(&entry.map_err(state_error("flush", root))?.path())?;
        }
    }
    if metadata.is_dir() || metadata.is_file() {
        sync(root).map_err(state_error("flush", root))?;
    }
    Ok(())
}

fn sync(path: &Path) -> io::Result<()> {
    fs::File::open(path)?.sync_all()
}

/// A name no other process or earlier run of this one uses.
fn unique_name(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}{}-{nanos}", std::process::id())
}

/// An error constructor for `action` on `path`, for use with `map_err`.
fn state_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> DemoError {
    let path = path.to_path_buf();
    move |source| DemoError::State {
        action,
        path,
        source,
    }
}
