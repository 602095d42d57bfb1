//! The engine behind chapter 4's commands: images in an OCI store, layers
//! unpacked once, containers as writable layers on top.
//!
//! ```text
//! $CRATEBOX_ROOT/
//! ├── oci/         the image store (an OCI image layout)
//! ├── layers/      each layer unpacked once, by chain ID
//! ├── containers/  one directory per container: record, upper, work, merged
//! ├── volumes/     named and anonymous volumes (chapter 6)
//! └── demo/        the demo root file system, imported as demo:latest
//! ```
//!
//! Chapter 5's builder keeps its own files beside these (its cache and
//! scratch space); the engine never reads them. What the builder needs
//! kept from garbage collection it tells the store ([`Store::keep`]).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use cratebox_cgroups::Limits;
use cratebox_image::build::{add_layer, store_layer_dir, store_layer_file};
use cratebox_image::digest::Digest;
use cratebox_image::layers::{chain_ids_of, UnpackedLayers};
use cratebox_image::reference::Reference;
use cratebox_image::store::{Image, Store, StoreError};
use cratebox_sandbox::ContainerCommand;

use crate::containers::{Containers, Record, Status};
use crate::demo::DEMO_IMAGE;
use crate::error::EngineError;
use crate::layered::{run_on_layers, Isolation};
use crate::RunOutcome;

/// On whose behalf the store keeps the images of existing containers.
pub(crate) const CONTAINERS_OWNER: &str = "containers";

/// Where images come from when the store lacks them (chapter 8's
/// registries). The engine only knows this much of them.
pub trait Registry: Send + Sync {
    /// The name the store keeps `name` under, as docker normalises it
    /// (`docker.io/library/alpine` → `alpine:latest`); `None` leaves the
    /// name as it is.
    fn local_name(&self, name: &str) -> Option<Reference>;
    /// Fetch `name` into `engine`'s store; the name it is stored under.
    fn pull(&self, engine: &Engine, name: &str) -> Result<Reference, String>;
}

/// A [`Registry`] that an engine holds.
#[derive(Clone)]
pub struct RegistryHandle(pub std::sync::Arc<dyn Registry>);

impl std::fmt::Debug for RegistryHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegistryHandle")
    }
}

/// The state directories, opened.
#[derive(Debug, Clone)]
pub struct Engine {
    /// Where a missing image is pulled from; `None` before chapter 8.
    pub registry: Option<RegistryHandle>,
    state_root: PathBuf,
    /// The image store.
    pub store: Store,
    /// Unpacked layers.
    pub layers: UnpackedLayers,
    /// Container records and writable layers.
    pub containers: Containers,
    /// Volumes (chapter 6).
    pub volumes: crate::volumes::Volumes,
}

/// How to run a container from an image.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// `--name`.
    pub name: Option<String>,
    /// `--rm`: remove the container when it ends.
    pub remove: bool,
    /// Hostname and user namespace (chapter 2's options).
    pub isolation: Isolation,
    /// The command; empty means the image's Entrypoint + Cmd.
    pub command: Vec<String>,
    /// Chapter 3's limits.
    pub limits: Limits,
}

impl Engine {
    /// Open (and create) the state under `state_root`.
    pub fn open(state_root: &Path) -> Result<Engine, EngineError> {
        Ok(Engine {
            registry: None,
            state_root: state_root.to_path_buf(),
            store: Store::open(&state_root.join("oci"))?,
            layers: UnpackedLayers::open(&state_root.join("layers"))?,
            containers: Containers::open(&state_root.join("containers"))?,
            volumes: crate::volumes::Volumes::open(&state_root.join("volumes"))?,
        })
    }

    /// The directory all state lives under.
    pub fn state_root(&self) -> &Path {
        &self.state_root
    }

    /// A path for a temporary file of this process under the state root
    /// (on the store's file system, so it can be renamed into it).
    pub fn temp_path(&self, what: &str) -> PathBuf {
        self.state_root
            .join(format!(".{what}-{}.tar", std::process::id()))
    }

    // ANCHOR: import
    /// `import TARBALL NAME[:TAG]`: a root file system tar as a one-layer
    /// image. The layer is unpacked before the image gets its name, so a
    /// hostile tar is refused here and no image of it ever exists.
    pub fn import(&self, tarball: &Path, reference: &Reference) -> Result<Image, EngineError> {
        let layer = store_layer_file(&self.store, tarball)?;
        // A base layer's chain ID is its diff_id.
        let unpacked = match self.layers.dir(&layer.diff_id).is_dir() {
            true => Ok(()),
            false => self
                .layers
                .unpack(&self.store, &layer.blob, &layer.diff_id, &layer.diff_id),
        };
        if let Err(error) = unpacked {
            self.forget_unused_blob(&layer.blob);
            return Err(error.into());
        }
        let note = format!(
            "import {}",
            tarball.file_name().unwrap_or_default().to_string_lossy()
        );
        Ok(add_layer(&self.store, None, &layer, &note, reference)?)
    }
    // ANCHOR_END: import

    /// Remove a blob that a failed import or load stored, unless an image
    /// uses it (another import of the same file may have named it meanwhile).
    fn forget_unused_blob(&self, blob: &Digest) {
        let used = self
            .store
            .list()
            .unwrap_or_default()
            .into_iter()
            .any(|(reference, digest)| {
                self.store
                    .image(reference, digest)
                    .and_then(|image| image.layers())
                    .map(|layers| layers.iter().any(|layer| layer.blob == *blob))
                    .unwrap_or(true)
            });
        if !used {
            let _ = fs::remove_file(self.store.blob_path(blob));
        }
    }

    /// `load -i FILE`: the images of an OCI archive, each checked by
    /// unpacking its layers before it is named.
    pub fn load(&self, archive: &Path) -> Result<Vec<Reference>, EngineError> {
        Ok(cratebox_image::archive::load(
            &self.store,
            archive,
            |image| {
                self.layers
                    .ensure(&self.store, image)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            },
        )?)
    }

    /// Find an image by name, importing the demo image first if that is the one asked for.
    pub fn image(&self, name: &str) -> Result<Image, EngineError> {
        let reference = self.local_name(name)?;
        if reference.to_string() == DEMO_IMAGE {
            self.ensure_demo()?;
        }
        Ok(self.store.resolve(&reference)?)
    }

    /// The name the store keeps `name` under.
    pub fn local_name(&self, name: &str) -> Result<Reference, EngineError> {
        let reference: Reference = name.parse()?;
        let normalised = self.registry.as_ref().and_then(|r| r.0.local_name(name));
        Ok(normalised.unwrap_or(reference))
    }

    // ANCHOR: image_or_pull
    /// [`Engine::image`], pulling the image first when the store lacks it
    /// and a registry is set (`run`, `create`, and a build's `FROM`).
    pub fn image_or_pull(&self, name: &str) -> Result<Image, EngineError> {
        match (self.image(name), &self.registry) {
            (Err(EngineError::Store(StoreError::NoSuchImage(_))), Some(registry)) => {
                let reference = registry.0.pull(self, name).map_err(EngineError::Pull)?;
                Ok(self.store.resolve(&reference)?)
            }
            (found, _) => found,
        }
    }
    // ANCHOR_END: image_or_pull

    // ANCHOR: run
    /// `run IMAGE [COMMAND]`: unpack what is not unpacked yet, make a
    /// container (a record and an empty writable layer), and run it with
    /// the image's layers joined under its upper dir by overlayfs.
    ///
    /// The record keeps the exit code, also when the command could not
    /// start (127: not found, 126: not executable, 125: our failure).
    // ANCHOR: run_steps
    pub fn run(
        &self,
        image_name: &str,
        request: &RunRequest,
    ) -> Result<(Record, RunOutcome), EngineError> {
        let image = self.image_or_pull(image_name)?;
        let lowers = self.layers.ensure(&self.store, &image)?;
        let (command, env) = command_for(&image, &request.command);
        let mut record = self.containers.create(
            request.name.as_deref(),
            &image.reference.to_string(),
            image.manifest_digest.as_str(),
            command.clone(),
        )?;
        // A container needs its image for as long as it exists (`diff`,
        // `commit`), even if the image loses its name.
        self.store.keep(CONTAINERS_OWNER, &image.manifest_digest)?;
        let mut container_command = ContainerCommand::new(command);
        for (key, value) in env {
            container_command.set_env(&key, &value);
        }
        container_command.set_env("HOSTNAME", &request.isolation.hostname);
        // The image's WORKDIR and USER, as docker applies them.
        let config = image.config.config().clone().unwrap_or_default();
        container_command.cwd = config.working_dir().clone();
        container_command.user = config.user().clone();
        record.status = Status::Running {
            pid: std::process::id(),
        };
        self.containers.save(&record)?;
        let ran = run_on_layers(
            &lowers,
            &self.containers.dirs(&record.id),
            container_command,
            &request.isolation,
            &request.limits,
        );
        // ANCHOR_END: run_steps
        record.status = Status::Exited {
            code: match &ran {
                Ok(outcome) => outcome.code,
                Err(error) => error.exit_code(),
            },
        };
        if request.remove {
            self.remove_container(&record)?;
        } else {
            self.containers.save(&record)?;
        }
        Ok((record, ran?))
    }
    // ANCHOR_END: run

    /// `rm CONTAINER`: its record and writable layer; and its image is no
    /// longer kept for it. Refused while it runs.
    pub fn remove_container(&self, record: &Record) -> Result<(), EngineError> {
        self.containers.remove(record)?;
        let still_used = self
            .containers
            .list()?
            .iter()
            .any(|other| other.image_digest == record.image_digest);
        if !still_used {
            if let Ok(digest) = record.image_digest.parse::<Digest>() {
                self.store.release(CONTAINERS_OWNER, &digest)?;
            }
        }
        Ok(())
    }

    /// The image a container was made from.
    fn image_of(&self, record: &Record) -> Result<Image, EngineError> {
        let damaged = |why: String| EngineError::DamagedRecord {
            container: record.name.clone(),
            why,
        };
        let reference: Reference = record.image.parse().map_err(|e| damaged(format!("{e}")))?;
        let digest: Digest = record
            .image_digest
            .parse()
            .map_err(|e| damaged(format!("{e}")))?;
        Ok(self.store.image(reference, digest)?)
    }

    /// The lower directories of a container's image.
    pub fn lowers_of(&self, record: &Record) -> Result<Vec<PathBuf>, EngineError> {
        let image = self.image_of(record)?;
        Ok(self.layers.ensure(&self.store, &image)?)
    }

    // ANCHOR: commit
    /// `commit CONTAINER NAME[:TAG]`: the container's upper dir becomes one
    /// more layer on top of its image's — A+B+C+nginx.
    pub fn commit(&self, container: &str, reference: &Reference) -> Result<Image, EngineError> {
        let record = self.containers.find(container)?;
        let base = self.image_of(&record)?;
        let upper = self.containers.dirs(&record.id).upper;
        let layer = store_layer_dir(&self.store, &upper, &self.temp_path("commit"))?;
        let note = format!("commit {} ({})", record.name, record.command.join(" "));
        Ok(add_layer(
            &self.store,
            Some(&base),
            &layer,
            &note,
            reference,
        )?)
    }
    // ANCHOR_END: commit

    // ANCHOR: remove_image
    /// `rmi IMAGE`: remove the name, then every blob and unpacked layer no
    /// remaining image uses. Refused while a container uses the image.
    pub fn remove_image(&self, name: &str) -> Result<(Reference, Vec<Digest>), EngineError> {
        let reference = self.local_name(name)?;
        let image = self.store.resolve(&reference)?;
        if let Some(user) = self
            .containers
            .list()?
            .into_iter()
            .find(|c| c.image_digest == image.manifest_digest.as_str())
        {
            return Err(EngineError::ImageInUse {
                image: reference,
                container: user.name,
                id: user.id[..12].to_string(),
            });
        }
        self.store.untag(&reference)?;
        let removed = self.collect_garbage()?;
        Ok((reference, removed))
    }
    // ANCHOR_END: remove_image

    /// Delete every blob and unpacked layer that no image the store keeps
    /// (by name, or kept unnamed by the builder) uses. Returns the blobs
    /// removed.
    pub fn collect_garbage(&self) -> Result<Vec<Digest>, EngineError> {
        let removed = self.store.gc()?;
        let mut keep = BTreeSet::new();
        for image in self.store.reachable()? {
            keep.extend(chain_ids_of(&image)?);
        }
        self.layers.gc(&keep)?;
        Ok(removed)
    }
}

/// The command and environment to run: the one given, else the image's
/// Entrypoint + Cmd; the image's Env on top of the defaults (so an image
/// that sets no PATH gets docker's default one).
pub fn command_for(image: &Image, given: &[String]) -> (Vec<String>, Vec<(String, String)>) {
    let config = image.config.config().clone().unwrap_or_default();
    let env = config
        .env()
        .clone()
        .unwrap_or_default()
        .iter()
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    let mut command: Vec<String> = config.entrypoint().clone().unwrap_or_default();
    if given.is_empty() {
        command.extend(config.cmd().clone().unwrap_or_default());
    } else {
        command.extend(given.iter().cloned());
    }
    if command.is_empty() {
        command.push("/bin/sh".to_string());
    }
    (command, env)
}

#[cfg(test)]
mod tests {
    #[test]
    fn images_and_containers_agree_on_the_default_path() {
        assert_eq!(
            cratebox_image::new_image::DEFAULT_PATH,
            cratebox_sandbox::command::DEFAULT_PATH
        );
    }
}
