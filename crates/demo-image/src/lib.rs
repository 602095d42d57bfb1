//! The demo image: the root filesystem every chapter runs in when you pass no
//! `--rootfs`.
//!
//! A container image is, at bottom, a directory tree that becomes `/` for the
//! processes inside. Docker downloads one; a newcomer reading this book may
//! have no images and no network, so cratebox *builds* a small one from the
//! host on first use and keeps it under the state directory
//! (`/var/lib/cratebox/demo/`, or `$CRATEBOX_ROOT/demo/`).
//!
//! # Lesson plan
//!
//! 1. `layout`: the skeleton every Linux root has: `/proc`,
//!    `/sys` and `/dev` as empty mount points, `/tmp` with the sticky bit,
//!    `/etc/passwd`, and an `/etc/os-release` that tells the image apart from
//!    the host. Plus static helpers, `probe`, `breakout`, `memhog` and
//!    `escape`, compiled by `build.rs` and embedded in this library.
//! 2. `commands`: [`COMMANDS`], the one list of commands the image offers,
//!    whichever source built it: every command the README, the book, the
//!    chapters' demos and the tests run inside a container.
//! 3. `source`: where the programs come from, a [`Source`], and which one
//!    the caller asks for, a [`SourceChoice`] (`$CRATEBOX_DEMO_SOURCE`:
//!    `busybox`, `host` or `auto`, the default).
//!    - `busybox`: one static binary and a symlink per
//!      applet (how Alpine does it). Preferred: nothing else to copy.
//!    - `host`: the host's programs for the commands on the list. These
//!      are dynamically linked, so [`elf`] reads their headers to find the
//!      loader and every library they need, and `mirror`
//!      copies each to the path the loader will look it up at.
//! 4. `manifest`: what a build wrote (with its source and the list it was
//!    built against), [`verify`], the cheap check that a cached image is
//!    still whole and current, and [`identity`], a digest of it.
//! 5. `publish`: [`ensure`], which builds off to the side and
//!    publishes with one atomic `rename(2)`, so that concurrent callers and
//!    crashes never see half an image, and rebuilds an image made from a
//!    worse source than the host now has.
//!
//! The book's appendix "The demo image and the probe" follows this plan;
//! chapter 1 (chroot) explains why an image needs each of these.

mod busybox;
mod commands;
pub mod elf;
mod host;
mod layout;
mod manifest;
mod mirror;
mod publish;
mod source;

use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

pub use busybox::BusyboxError;
pub use commands::{find as find_command, Need, Offer, COMMANDS};
pub use elf::ElfError;
pub use host::HostError;
pub use layout::LayoutError;
pub use manifest::{
    Entry, EntryKind, Manifest, ManifestError, SourceKind, FORMAT_VERSION, MANIFEST_FILE,
};
pub use mirror::MirrorError;
pub use publish::{current_identity, ensure, ensure_with, state_root};
pub use source::{Source, SourceChoice, SourceError, SOURCE_ENV};

/// Where the isolation probe lives inside the image.
pub const PROBE_PATH: &str = "/usr/local/bin/probe";
/// Where the chroot breakout lives inside the image.
pub const BREAKOUT_PATH: &str = "/usr/local/bin/breakout";
/// Where the memory hog of chapter 3 lives inside the image.
pub const MEMHOG_PATH: &str = "/usr/local/bin/memhog";
/// Where chapter 9's escape attempts live inside the image.
pub const ESCAPE_PATH: &str = "/usr/local/bin/escape";

/// Everything that can go wrong while building, checking or caching the image.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The state directory (or something in it) cannot be created or changed.
    #[error(
        "cannot {action} the demo image under {path}: {} \
         (run as root or set CRATEBOX_ROOT to a writable directory)",
        short(.source)
    )]
    State {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("cannot build a demo image at {path}: it already exists (remove it first)")]
    Exists { path: PathBuf },
    #[error("the demo image at {rootfs} is damaged: {source} (remove {} to rebuild it)", .rootfs.parent().unwrap_or(.rootfs).display())]
    Damaged {
        rootfs: PathBuf,
        source: ManifestError,
    },
    /// A build finished, yet a required command is not where a container's
    /// PATH lookup would find it.
    #[error(
        "the demo image built at {rootfs} from {from:?} does not offer {command}: \
         no executable {command} in its PATH directories"
    )]
    Lacks {
        rootfs: PathBuf,
        from: SourceKind,
        command: &'static str,
    },
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error(transparent)]
    Busybox(#[from] BusyboxError),
    #[error(transparent)]
    Host(#[from] HostError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// An `io::Error` as a lowercase phrase without the errno suffix:
/// "permission denied", not "Permission denied (os error 13)".
fn short(error: &io::Error) -> String {
    let text = error.to_string();
    let text = match text.find(" (os error") {
        Some(end) => &text[..end],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Build a fresh image with its root at `rootfs`, which must not exist yet,
/// and write its manifest beside it (`rootfs/../manifest.json`, see
/// [`verify`]). Returns the manifest.
///
/// This writes in place and flushes nothing: [`ensure`] calls it on a
/// private staging directory and makes the result durable before publishing.
pub fn build(rootfs: &Path, source: &Source) -> Result<Manifest, DemoError> {
    if rootfs.symlink_metadata().is_ok() {
        return Err(DemoError::Exists {
            path: rootfs.to_path_buf(),
        });
    }
    let create_error = |source| DemoError::State {
        action: "create",
        path: rootfs.to_path_buf(),
        source,
    };
    if let Some(parent) = rootfs.parent() {
        fs::create_dir_all(parent).map_err(create_error)?;
    }
    fs::DirBuilder::new()
        .mode(0o755)
        .create(rootfs)
        .and_then(|()| {
            fs::set_permissions(rootfs, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        })
        .map_err(create_error)?;

    layout::write(rootfs, &layout::plan(source.kind()))?;
    match source {
        Source::Busybox { binary } => busybox::install(rootfs, binary)?,
        Source::HostBinaries => host::install(rootfs)?,
    }
    // Each source checked its own way that it could provide every required
    // command; this checks the result the way a container will look.
    let lacking = COMMANDS
        .iter()
        .find(|c| c.need == Need::Required && commands::find(rootfs, c.name).is_none());
    if let Some(command) = lacking {
        return Err(DemoError::Lacks {
            rootfs: rootfs.to_path_buf(),
            from: source.kind(),
            command: command.name,
        });
    }

    let manifest = Manifest::scan(rootfs, source.kind())?;
    manifest.save(&manifest::manifest_path(rootfs))?;
    Ok(manifest)
}

/// Check the image at `rootfs` against its manifest, which is read from
/// `rootfs/../manifest.json` (the manifest stays outside the tree containers
/// see), and return the manifest. Fails when the manifest is missing,
/// unreadable, of another format version, for other embedded tools or
/// another list of [`COMMANDS`], or when any entry it lists is missing or
/// has another kind, size, mode or link target.
pub fn verify(rootfs: &Path) -> Result<Manifest, DemoError> {
    manifest::verify(rootfs).map_err(|source| DemoError::Damaged {
        rootfs: rootfs.to_path_buf(),
        source,
    })
}

// ANCHOR: identity
/// A cheap identity of the image whose tree is `rootfs` (what [`ensure`]
/// returns): `sha256:` and the hex digest of its manifest's bytes.
///
/// The manifest records the source, the embedded tools' fingerprint, the
/// list of commands and every entry's kind, size, mode and link target, so
/// two images with one identity hold the same tree as far as [`verify`] can
/// tell, and a rebuild from another source (or after a change to the list)
/// gets another identity. An image store that imported the rootfs once keeps
/// the identity beside its copy, and imports again when it differs. Reading
/// one small file, it is cheap enough for every container start.
pub fn identity(rootfs: &Path) -> Result<String, DemoError> {
    Ok(manifest::identity(rootfs)?)
}
// ANCHOR_END: identity

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_as_lowercase_phrases() {
        let error = io::Error::from_raw_os_error(13);
        assert_eq!(short(&error), "permission denied");
        assert_eq!(short(&io::Error::other("Custom")), "custom");
    }
}
