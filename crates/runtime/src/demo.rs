//! The demo root file system of chapter 1, as an image: `demo:latest`.
//!
//! Chapters 1–3 run directly in the demo rootfs (a directory). From
//! chapter 4 on a container runs an image, so the same tree is tarred and
//! imported as a one-layer image the first time it is needed, and again
//! whenever the tree was rebuilt (from a better source, or for a longer
//! list of commands).

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::Path;

use cratebox_image::build::store_layer_file;
use cratebox_image::new_image::{Layer, NewImage};
use cratebox_image::reference::Reference;

use crate::engine::Engine;
use crate::error::EngineError;

/// The name the demo image gets in the store.
pub const DEMO_IMAGE: &str = "demo:latest";

/// The manifest annotation that records which build of the demo root file
/// system the image was imported from (`cratebox_demo_image::identity`).
/// An annotation, not a label: images built on the demo image do not
/// inherit it.
pub const IDENTITY_ANNOTATION: &str = "org.cratebox.demo.identity";

impl Engine {
    // ANCHOR: ensure_demo
    /// Make sure `demo:latest` is the demo root file system of chapter 1 as
    /// it is now, imported as a one-layer image. The root file system is
    /// rebuilt when a better source appears (a static busybox) or its list
    /// of commands changed; its identity, kept as an annotation of the
    /// image's manifest, tells the store to import it again.
    // ANCHOR: ensure_demo_check
    pub fn ensure_demo(&self) -> Result<(), EngineError> {
        let demo: Reference = DEMO_IMAGE.parse()?;
        let previous = self.store.resolve(&demo).ok();
        let imported = previous.as_ref().and_then(|image| {
            let annotations = image.manifest.annotations().clone()?;
            annotations.get(IDENTITY_ANNOTATION).cloned()
        });
        // The common case, cheaply: the store holds the demo root as it is.
        // (The store has its own copy, so the tree itself needs no check.)
        let current = cratebox_demo_image::current_identity(self.state_root())?;
        if current.is_some() && imported == current {
            return Ok(());
        }
        let rootfs = cratebox_demo_image::ensure(self.state_root())?;
        let identity = cratebox_demo_image::identity(&rootfs)?;
        if imported.as_deref() == Some(identity.as_str()) {
            return Ok(());
        }
        // ANCHOR_END: ensure_demo_check
        let tar_path = self.temp_path("demo");
        let result = (|| -> Result<(), EngineError> {
            tar_directory(&rootfs, &tar_path).map_err(|source| EngineError::Io {
                what: "tar",
                path: rootfs.clone(),
                source,
            })?;
            let layer = store_layer_file(&self.store, &tar_path)?;
            let mut image = NewImage::root_filesystem();
            image
                .annotations
                .insert(IDENTITY_ANNOTATION.into(), identity.clone());
            image.add_layer(
                Some(Layer::from(&layer)),
                "cratebox demo image (from the host)",
            );
            let written = image.write(&self.store)?.clone();
            self.store
                .tag(&demo, &written.manifest, written.manifest_size)?;
            Ok(())
        })();
        let _ = fs::remove_file(&tar_path);
        result?;
        // An older import, if there was one, is garbage now (containers
        // made from it keep it).
        if previous.is_some() {
            self.collect_garbage()?;
        }
        Ok(())
    }
    // ANCHOR_END: ensure_demo
}

/// Tar a directory tree (symlinks as symlinks, sorted, paths relative).
fn tar_directory(dir: &Path, out: &Path) -> io::Result<()> {
    let mut builder = tar::Builder::new(BufWriter::new(File::create(out)?));
    builder.follow_symlinks(false);
    fn walk(
        builder: &mut tar::Builder<BufWriter<File>>,
        root: &Path,
        dir: &Path,
    ) -> io::Result<()> {
        let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let name = path.strip_prefix(root).map_err(io::Error::other)?;
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
