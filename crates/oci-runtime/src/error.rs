//! Why a runtime command failed: one line that names the problem, and
//! where it can, the field of `config.json` and the fix.

use std::path::PathBuf;

use thiserror::Error;

/// Why a command of the runtime failed.
#[derive(Debug, Error)]
pub enum RuntimeError {
    /// The bundle or its `config.json` is not usable.
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
    /// No container of that id under `--root`.
    #[error("container {0:?} does not exist: `cratebox-runtime list` shows those that do")]
    NoSuchContainer(String),
    /// `create` with an id already taken.
    #[error("container {0:?} already exists: delete it first, or pick another id")]
    Exists(String),
    /// An id that cannot name a directory.
    #[error("{0:?} is not a valid container id: use letters, digits, '_', '-', '.' and ':', not starting with '.'")]
    BadId(String),
    /// The operation does not fit the container's status.
    #[error("container {id:?}: {refusal}")]
    Refused {
        /// The container.
        id: String,
        /// Why.
        refusal: crate::lifecycle::Refusal,
    },
    /// A cgroup could not be made, written or removed.
    #[error("{0}")]
    Cgroup(String),
    /// A hook failed.
    #[error(transparent)]
    Hook(#[from] crate::hooks::HookError),
    /// The container's process reported a failure while setting up.
    #[error("{0}")]
    Container(String),
    /// A flag this runtime does not support.
    #[error("{0}")]
    Unsupported(String),
    /// A file of the runtime's own could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// Which.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A system call failed.
    #[error("{call}: {errno}")]
    Sys {
        /// Which call, and on what.
        call: String,
        /// What the kernel said.
        errno: nix::errno::Errno,
    },
}

impl RuntimeError {
    /// A failed system call.
    pub fn sys(call: impl Into<String>, errno: nix::errno::Errno) -> Self {
        RuntimeError::Sys {
            call: call.into(),
            errno,
        }
    }

    /// A failed file operation.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RuntimeError::Io {
            path: path.into(),
            source,
        }
    }
}
