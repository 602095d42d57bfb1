//! The demo image: the root filesystem every chapter runs in when you pass no
//! `--rootfs`.
//!
//! A container image is, at bottom, a directory tree that becomes `/` for the
//! processes inside. Docker downloads one; a newcomer reading this book may
//! have no images and no network, so cratebox *builds* a small one from the
//! host on first use and caches it under the state directory
//! (`/var/lib/cratebox/demo/`, or `$CRATEBOX_ROOT/demo/`).
//!
//! # Lesson plan
//!
//! 1. `layout`: the skeleton every Linux root has: `/proc`,
//!    `/sys` and `/dev` as empty mount points, `/tmp` with the sticky bit,
//!    `/etc/passwd`, and an `/etc/os-release` that tells the image apart from
//!    the host. Plus static helpers, `probe`, `breakout` and `memhog`, compiled by
//!    `build.rs` and embedded in this library.
//! 2. Where the programs come from: a [`Source`].
//!    - `busybox`: one static binary and a symlink per
//!      applet (how Alpine does it). Preferred: nothing else to copy.
//!    - `host`: the host's `/bin/sh` and a few commands. These
//!      are dynamically linked, so [`elf`] reads their headers to find the
//!      loader and every library they need, and `mirror`
//!      copies each to the path the loader will look it up at.
//! 3. `manifest`: what a build wrote, and [`verify`], the
//!    cheap check that a cached image is still whole.
//! 4. `cache`: [`ensure`], which builds off to the side and
//!    publishes with one atomic `rename(2)`, so that concurrent callers and
//!    crashes never see half an image.
//!
//! The book's chapter 1 (chroot) explains why an image needs each of these.

mod busybox;
mod cache;
pub mod elf;
mod host;
mod layout;
mod manifest;
mod mirror;

use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

pub use busybox::BusyboxError;
pub use cache::{ensure, state_root};
pub use elf::ElfError;
pub use host::HostError;
pub use layout::LayoutError;
pub use manifest::{
    Entry, EntryKind, Manifest, ManifestError, SourceKind, FORMAT_VERSION, MANIFEST_FILE,
};
pub use mirror::MirrorError;

/// Where the isolation probe lives inside the image.
pub const PROBE_PATH: &str = "/usr/local/bin/probe";
/// Where the chroot breakout lives inside the image.
pub const BREAKOUT_PATH: &str = "/usr/local/bin/breakout";
/// Where the memory hog of chapter 3 lives inside the image.
pub const MEMHOG_PATH: &str = "/usr/local/bin/memhog";

/// Where the image's programs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A statically linked busybox on the host, copied with its applet links.
    Busybox { binary: PathBuf },
    /// The host's own `/bin/sh` and commands, with their shared libraries.
    HostBinaries,
}

impl Source {
    /// Busybox when the host has a *static* one (checked by reading its ELF
    /// headers: no `PT_INTERP`), else the host's binaries.
    pub fn detect() -> Source {
        match busybox::find_static() {
            Some(binary) => Source::Busybox { binary },
            None => Source::HostBinaries,
        }
    }

    /// The data-only name of this source, as the manifest records it.
    pub fn kind(&self) -> SourceKind {
        match self {
            Source::Busybox { .. } => SourceKind::Busybox,
            Source::HostBinaries => SourceKind::HostBinaries,
        }
    }
}

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

    let manifest = Manifest::scan(rootfs, source.kind())?;
    manifest.save(&manifest::manifest_path(rootfs))?;
    Ok(manifest)
}

/// Check the image at `rootfs` against its manifest, which is read from
/// `rootfs/../manifest.json` (the manifest stays outside the tree containers
/// see). Fails when the manifest is missing, unreadable, of another format
/// version or for other embedded tools, or when any entry it lists is missing
/// or has another kind, size, mode or link target.
pub fn verify(rootfs: &Path) -> Result<(), DemoError> {
    manifest::verify(rootfs).map_err(|source| DemoError::Damaged {
        rootfs: rootfs.to_path_buf(),
        source,
    })
}

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
