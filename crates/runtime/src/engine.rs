//! The engine behind chapter 4's commands: images in an OCI store, layers
//! unpacked once, containers as writable layers on top.
//!
//! ```text
//! $CRATEBOX_ROOT/
//! ├── oci/         the image store (an OCI image layout)
//! ├── layers/      each layer unpacked once, by chain ID
//! ├── containers/  one directory per container: record, upper, work, merged
//! ├── build-cache/ chapter 5's build cache: one file per step, naming an image
//! └── demo/        the demo root file system, imported as demo:latest
//! ```

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use cratebox_cgroups::Limits;
use cratebox_image::build::{add_layer, store_layer_file};
use cratebox_image::digest::Digest;
use cratebox_image::layers::{chain_ids_of, LayerCache};
use cratebox_image::overlay::overlay_options;
use cratebox_image::reference::Reference;
use cratebox_image::store::{Image, Store};
use cratebox_sandbox::idmap::DEFAULT_USERNS_RANGE;
use cratebox_sandbox::{ContainerCommand, ContainerConfig, Namespaces};

use crate::containers::{Containers, Record, Status};
use crate::{run_limited, RunOutcome};

/// Any failure of an engine command, as one line for the user.
pub type EngineError = Box<dyn std::error::Error + Send + Sync>;

/// The state directories, opened.
#[derive(Debug, Clone)]
pub struct Engine {
    state_root: PathBuf,
    /// The image store.
    pub store: Store,
    /// Unpacked layers.
    pub layers: LayerCache,
    /// Container records and writable layers.
    pub containers: Containers,
}

/// How to run a container from an image.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// `--name`.
    pub name: Option<String>,
    /// `--rm`: remove the container when it ends.
    pub remove: bool,
    /// Hostname inside.
    pub hostname: String,
    /// `--userns`.
    pub userns: bool,
    /// The command; empty means the image's Entrypoint + Cmd.
    pub command: Vec<String>,
    /// Chapter 3's limits.
    pub limits: Limits,
}

/// The name the demo image gets in the store.
pub const DEMO_IMAGE: &str = "demo:latest";

impl Engine {
    /// Open (and create) the state under `state_root`.
    pub fn open(state_root: &Path) -> Result<Engine, EngineError> {
        Ok(Engine {
            state_root: state_root.to_path_buf(),
            store: Store::open(&state_root.join("oci"))?,
            layers: LayerCache::open(&state_root.join("layers"))?,
            containers: Containers::open(&state_root.join("containers"))?,
        })
    }

    /// The directory all state lives under.
    pub fn state_root(&self) -> &Path {
        &self.state_root
    }

    /// Make sure `demo:latest` exists: the demo root file system of chapter
    /// 1, imported as a one-layer image the first time it is needed.
    pub fn ensure_demo(&self) -> Result<(), EngineError> {
        let demo: Reference = DEMO_IMAGE.parse()?;
        if self.store.resolve(&demo).is_ok() {
            return Ok(());
        }
        let rootfs = cratebox_demo_image::ensure(&self.state_root)?;
        let tar_path = self
            .state_root
            .join(format!(".demo-{}.tar", std::process::id()));
        let result = (|| {
            tar_directory(&rootfs, &tar_path)?;
            let layer = store_layer_file(&self.store, &tar_path)?;
            add_layer(
                &self.store,
                None,
                &layer,
                "cratebox demo image (from the host)",
                &demo,
            )?;
            Ok(())
        })();
        let _ = fs::remove_file(&tar_path);
        result
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
                    .map(|layers| layers.iter().any(|(b, _)| b == blob))
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
        let reference: Reference = name.parse()?;
        if reference.to_string() == DEMO_IMAGE {
            self.ensure_demo()?;
        }
        Ok(self.store.resolve(&reference)?)
    }

    // ANCHOR: run
    /// `run IMAGE [COMMAND]`: unpack what is not unpacked yet, make a
    /// container (a record and an empty writable layer), and run it with
    /// the image's layers joined under its upper dir by overlayfs.
    pub fn run(
        &self,
        image_name: &str,
        request: &RunRequest,
    ) -> Result<(Record, RunOutcome), EngineError> {
        let image = self.image(image_name)?;
        let lowers = self.layers.ensure(&self.store, &image)?;
        let (command, env) = command_for(&image, &request.command);
        let mut record = self.containers.create(
            request.name.as_deref(),
            &image.reference.to_string(),
            image.manifest_digest.as_str(),
            command.clone(),
        )?;
        let dirs = self.containers.dirs(&record.id);
        let mut container_command = ContainerCommand::new(command);
        for (key, value) in env {
            container_command.set_env(&key, &value);
        }
        container_command.set_env("HOSTNAME", &request.hostname);
        // The image's WORKDIR and USER, as docker applies them.
        let config = image.config.config().clone().unwrap_or_default();
        container_command.cwd = config.working_dir().clone();
        container_command.user = config.user().clone();
        let config = ContainerConfig {
            rootfs: dirs.merged.clone(),
            hostname: request.hostname.clone(),
            namespaces: Namespaces::all(request.userns),
            id_range: DEFAULT_USERNS_RANGE,
            command: container_command,
            overlay: Some(overlay_options(&lowers, &dirs.upper, &dirs.work)),
        };
        record.status = Status::Running {
            pid: std::process::id(),
        };
        self.containers.save(&record)?;
        let ran = run_limited(&config, &request.limits);
        record.status = Status::Exited {
            code: ran.as_ref().map(|o| o.code).unwrap_or(125),
        };
        if request.remove {
            self.containers.remove(&record)?;
        } else {
            self.containers.save(&record)?;
        }
        Ok((record, ran?))
    }
    // ANCHOR_END: run

    /// Where chapter 5's build cache lives: one file per cached step,
    /// holding the manifest digest of the (unnamed) image the step made.
    pub fn build_cache_dir(&self) -> PathBuf {
        self.state_root.join("build-cache")
    }

    /// The images the build cache points at. `rmi` keeps their blobs, so
    /// removing one image does not empty the cache of every other build;
    /// [`Engine::prune_build_cache`] lets them go.
    fn build_cache_roots(&self) -> Vec<Digest> {
        fs::read_dir(self.build_cache_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| fs::read_to_string(entry.path()).ok())
            .filter_map(|text| text.trim().parse().ok())
            .collect()
    }

    /// Forget the build cache, then delete every blob and unpacked layer
    /// no named image uses. Returns how many cache entries went, and the
    /// blobs removed.
    pub fn prune_build_cache(&self) -> Result<(usize, Vec<Digest>), EngineError> {
        let mut entries = 0;
        if let Ok(dir) = fs::read_dir(self.build_cache_dir()) {
            for entry in dir.flatten() {
                fs::remove_file(entry.path())?;
                entries += 1;
            }
        }
        let removed = self.store.gc(&[])?;
        self.gc_layers()?;
        Ok((entries, removed))
    }

    /// Remove unpacked layers that no named image uses.
    fn gc_layers(&self) -> Result<(), EngineError> {
        let mut keep = BTreeSet::new();
        for (other, digest) in self.store.list()? {
            keep.extend(chain_ids_of(&self.store.image(other, digest)?)?);
        }
        self.layers.gc(&keep)?;
        Ok(())
    }

    /// The lower directories of a container's image.
    pub fn lowers_of(&self, record: &Record) -> Result<Vec<PathBuf>, EngineError> {
        let reference: Reference = record.image.parse()?;
        let image = self.store.image(reference, record.image_digest.parse()?)?;
        Ok(self.layers.ensure(&self.store, &image)?)
    }

    // ANCHOR: commit
    /// `commit CONTAINER NAME[:TAG]`: the container's upper dir becomes one
    /// more layer on top of its image's — A+B+C+nginx.
    pub fn commit(&self, container: &str, reference: &Reference) -> Result<Image, EngineError> {
        let record = self.containers.find(container)?;
        let base = self
            .store
            .image(record.image.parse()?, record.image_digest.parse()?)?;
        let upper = self.containers.dirs(&record.id).upper;
        let tar_path = self
            .state_root
            .join(format!(".commit-{}.tar", std::process::id()));
        let result = (|| {
            let file = File::create(&tar_path)?;
            cratebox_image::diff::write_layer(&upper, std::io::BufWriter::new(file))?;
            let layer = store_layer_file(&self.store, &tar_path)?;
            let note = format!("commit {} ({})", record.name, record.command.join(" "));
            Ok(add_layer(
                &self.store,
                Some(&base),
                &layer,
                &note,
                reference,
            )?)
        })();
        let _ = fs::remove_file(&tar_path);
        result
    }
    // ANCHOR_END: commit

    // ANCHOR: remove_image
    /// `rmi IMAGE`: remove the name, then every blob and unpacked layer no
    /// remaining image uses. Refused while a container uses the image.
    pub fn remove_image(&self, name: &str) -> Result<(Reference, Vec<Digest>), EngineError> {
        let reference: Reference = name.parse()?;
        let image = self.store.resolve(&reference)?;
        if let Some(user) = self
            .containers
            .list()?
            .into_iter()
            .find(|c| c.image_digest == image.manifest_digest.as_str())
        {
            return Err(format!(
                "image {reference} is used by container {} ({}): `rm` it first",
                user.name,
                &user.id[..12]
            )
            .into());
        }
        self.store.untag(&reference)?;
        let removed = self.store.gc(&self.build_cache_roots())?;
        self.gc_layers()?;
        Ok((reference, removed))
    }
    // ANCHOR_END: remove_image
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

/// Tar a directory tree (symlinks as symlinks, sorted, paths relative).
fn tar_directory(dir: &Path, out: &Path) -> std::io::Result<()> {
    let mut builder = tar::Builder::new(std::io::BufWriter::new(File::create(out)?));
    builder.follow_symlinks(false);
    fn walk(
        builder: &mut tar::Builder<std::io::BufWriter<File>>,
        root: &Path,
        dir: &Path,
    ) -> std::io::Result<()> {
        let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let name = path.strip_prefix(root).map_err(std::io::Error::other)?;
            builder.append_path_with_name(&path, name)?;
            if entry.file_type()?.is_dir() {
                walk(builder, root, &path)?;
            }
        }
        Ok(())
    }
    walk(&mut builder, dir, dir)?;
    builder
        .into_inner()?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()
}
