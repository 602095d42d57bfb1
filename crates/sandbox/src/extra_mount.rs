//! Chapter 6: the mounts a user adds to a container's root: `-v`,
//! `--mount` and `--tmpfs`. The mount plan (`mounts.rs`) puts them last,
//! after the container's own file systems and before pivot_root.

use std::path::PathBuf;

/// A mount the user asked for (`-v`, `--mount`, `--tmpfs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraMount {
    /// Where, inside the container.
    pub target: String,
    /// What.
    pub kind: ExtraKind,
    /// Read-only.
    pub readonly: bool,
}

/// What an [`ExtraMount`] shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtraKind {
    /// A host path: a bind mount. `file` when it is not a directory.
    Bind {
        /// The host path.
        source: PathBuf,
        /// It is a file, not a directory.
        file: bool,
        /// It is a volume just made, to be filled from the image first.
        fill: bool,
    },
    /// A tmpfs with these options.
    Tmpfs {
        /// `size=...,mode=...`.
        options: String,
    },
}
