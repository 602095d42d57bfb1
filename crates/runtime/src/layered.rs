//! Running a command on an image's layers: the one way both a container
//! (`run`) and a build step (`RUN`) do it.
//!
//! ```text
//! dir/
//! ├── upper/    what the command writes (overlayfs's upper dir)
//! ├── work/     overlayfs's scratch space, on upper's file system
//! ├── merged/   the mount point of the root, mounted inside the container only
//! └── empty/    a lower dir for an image with no layers (FROM scratch)
//! ```
//!
//! The layers below stay read-only; afterwards `upper/` holds exactly the
//! command's changes, ready to be listed (`diff`) or written out as a new
//! layer (`commit`, the end of a RUN step).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use cratebox_cgroups::Limits;
use cratebox_image::overlay::overlay_options;
use cratebox_sandbox::idmap::{IdRange, DEFAULT_USERNS_RANGE};
use cratebox_sandbox::{ContainerCommand, ContainerConfig, Namespaces, UserNamespace};

use crate::{run_limited, RunError, RunOutcome};

/// The writable top of a root made of layers: three directories under one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritableLayer {
    /// The directory holding the other three.
    pub dir: PathBuf,
    /// The command's changes.
    pub upper: PathBuf,
    /// overlayfs's scratch space.
    pub work: PathBuf,
    /// The mount point of the root.
    pub merged: PathBuf,
}

impl WritableLayer {
    /// The layout under `dir`; nothing is created.
    pub fn at(dir: &Path) -> WritableLayer {
        WritableLayer {
            dir: dir.to_path_buf(),
            upper: dir.join("upper"),
            work: dir.join("work"),
            merged: dir.join("merged"),
        }
    }

    /// Create the three directories (and `dir` if missing).
    pub fn create(&self) -> io::Result<()> {
        for dir in [&self.upper, &self.work, &self.merged] {
            fs::create_dir_all(dir)?;
        }
        Ok(())
    }
}

/// Who the container is: its hostname, and whether it has a user namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Isolation {
    /// The hostname inside.
    pub hostname: String,
    /// Whether root inside is root outside.
    pub user_namespace: UserNamespace,
}

// ANCHOR: run_on_layers
/// Run `command` in a container whose root is `lowers` (base first, as
/// unpacked by the layer store) under `top`, with chapter 2's isolation
/// and chapter 3's limits. `top` must exist ([`WritableLayer::create`]).
pub fn run_on_layers(
    lowers: &[PathBuf],
    top: &WritableLayer,
    command: ContainerCommand,
    isolation: &Isolation,
    limits: &Limits,
) -> Result<RunOutcome, RunError> {
    let config = config_on_layers(lowers, top, command, isolation)?;
    run_limited(&config, limits)
}
// ANCHOR_END: run_on_layers

/// The container [`run_on_layers`] runs: its root an overlay of `lowers`
/// under `top`, every namespace.
pub fn config_on_layers(
    lowers: &[PathBuf],
    top: &WritableLayer,
    command: ContainerCommand,
    isolation: &Isolation,
) -> Result<ContainerConfig, RunError> {
    let prepare_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RunError::Prepare { path, source }
    };
    let mut lowers = lowers.to_vec();
    if lowers.is_empty() {
        // overlayfs needs at least one lower directory, even an empty one.
        let empty = top.dir.join("empty");
        fs::create_dir_all(&empty).map_err(prepare_error(&empty))?;
        lowers.push(empty);
    }
    let id_range = DEFAULT_USERNS_RANGE;
    if isolation.user_namespace == UserNamespace::Own {
        // The container's root is an unprivileged id on the host: it must
        // own the directories overlayfs writes to.
        for dir in [&top.upper, &top.work] {
            give_to(dir, id_range).map_err(prepare_error(dir))?;
        }
    }
    let config = ContainerConfig {
        rootfs: top.merged.clone(),
        hostname: isolation.hostname.clone(),
        namespaces: Namespaces::all(isolation.user_namespace),
        id_range,
        command,
        overlay: Some(overlay_options(&lowers, &top.upper, &top.work)),
        stdio: None,
        mounts: Vec::new(),
        join_network: None,
        paths: Default::default(),
        devices: Vec::new(),
    };
    Ok(config)
}

/// chown a directory to the first id of a user namespace's range: its root.
fn give_to(dir: &Path, range: IdRange) -> io::Result<()> {
    std::os::unix::fs::chown(dir, Some(range.outside), Some(range.outside))
}
