//! Every way an engine command can fail, each keeping its cause.
//!
//! A command-line program turns an error into one line and an exit code.
//! The line comes from `Display`; the code must survive too: a container
//! whose command is not found exits 127, one that cannot be executed 126,
//! anything of ours 125, as docker does. So the engine does not flatten
//! errors into text (or into `Box<dyn Error>`, which hides their type):
//! it wraps them, and [`EngineError::exit_code`] reads the code back.

use std::io;
use std::path::PathBuf;

use cratebox_demo_image::DemoError;
use cratebox_image::layers::LayerError;
use cratebox_image::reference::{BadReference, Reference};
use cratebox_image::store::StoreError;
use thiserror::Error;

use crate::containers::ContainerStoreError;
use crate::RunError;

/// Why an engine command failed.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The container could not be run (its exit code says how).
    #[error(transparent)]
    Run(#[from] RunError),
    /// Its network could not be set up or taken down (chapter 7).
    #[error("{0}")]
    Network(String),
    /// A missing image could not be pulled (chapter 8).
    #[error("{0}")]
    Pull(String),
    /// A security option cannot be used (chapter 9).
    #[error(transparent)]
    Security(#[from] crate::security::SecurityError),
    /// The image store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A layer could not be unpacked.
    #[error(transparent)]
    Layers(#[from] LayerError),
    /// A container record could not be found, made or changed.
    #[error(transparent)]
    Containers(#[from] ContainerStoreError),
    /// An image name that is not one.
    #[error(transparent)]
    Reference(#[from] BadReference),
    /// The demo image could not be built.
    #[error(transparent)]
    Demo(#[from] DemoError),
    /// `rmi` of an image a container still uses.
    #[error("image {image} is used by container {container} ({id}): `rm` it first")]
    ImageInUse {
        /// The image.
        image: Reference,
        /// The container's name.
        container: String,
        /// Its short id.
        id: String,
    },
    /// A container record names an image or digest that does not parse.
    #[error("container {container} records a damaged image name: {why}")]
    DamagedRecord {
        /// The container.
        container: String,
        /// What is wrong.
        why: String,
    },
    /// A container made by chapter 4's `run`, which keeps no spec to run
    /// it again with.
    #[error("container {container} was made by an earlier chapter's run and cannot be started again: run a new one")]
    NotStartable {
        /// The container.
        container: String,
    },
    /// `exec`, `kill`, `attach`... of a container that does not run.
    #[error("container {container} is not running: start it first (`start {container}`)")]
    NotRunning {
        /// The container.
        container: String,
    },
    /// `rm` of a running container without `-f`.
    #[error("cannot remove container {container}: it is running: stop it first, or use rm -f")]
    StillRunning {
        /// The container.
        container: String,
    },
    /// A container's command could not start (its supervisor said why).
    #[error("{why}")]
    Start {
        /// The container.
        container: String,
        /// 125, 126 or 127, as for a container run in the foreground.
        code: i32,
        /// Why.
        why: String,
    },
    /// `exec` could not join the container or start its command.
    #[error(transparent)]
    Exec(#[from] cratebox_sandbox::join::JoinError),
    /// A volume could not be found, made or removed.
    #[error(transparent)]
    Volume(#[from] crate::volumes::VolumeError),
    /// A signal name or number that is not one.
    #[error("invalid signal {0:?}: give a name such as TERM, SIGKILL or HUP, or a number")]
    BadSignal(String),
    /// A file operation of the engine's own failed.
    #[error("cannot {what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl EngineError {
    // ANCHOR: exit_code
    /// The exit code a command-line program should end with: the
    /// container's own verdict (126 not executable, 127 not found) when
    /// the container could not run its command, else 125.
    pub fn exit_code(&self) -> i32 {
        match self {
            EngineError::Run(error) => error.exit_code(),
            EngineError::Start { code, .. } => *code,
            EngineError::Exec(error) => error.exit_code(),
            _ => cratebox_sandbox::report::SETUP_FAILED,
        }
    }
    // ANCHOR_END: exit_code
}
