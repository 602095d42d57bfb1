//! The demo root file system of chapter 1, as an image: `demo:latest`.
//!
//! Chapters 1–3 run directly in the demo rootfs (a directory). From
//! chapter 4 on a container runs an image, so the same tree is tarred and
//! imported as a one-layer image the first time it is needed.

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::Path;

use cratebox_image::build::{add_layer, store_layer_file};
use cratebox_image::reference::Reference;

use crate::engine::Engine;
use crate::error::EngineError;

/// The name the demo image gets in the store.
pub const DEMO_IMAGE: &str = "demo:latest";

impl Engine {
    /// Make sure `demo:latest` exists: the demo root file system of chapter
    /// 1, imported as a one-layer image the first time it is needed.
    pub fn ensure_demo(&self) -> Result<(), EngineError> {
        let demo: Reference = DEMO_IMAGE.parse()?;
        if self.store.resolve(&demo).is_ok() {
            return Ok(());
        }
        let rootfs = cratebox_demo_image::ensure(self.state_root())?;
        let tar_path = self
            .state_root()
            .join(format!(".demo-{}.tar", std::process::id()));
        let imported = (|| {
            tar_directory(&rootfs, &tar_path).map_err(|source| EngineError::Io {
                what: "tar",
                path: rootfs.clone(),
                source,
            })?;
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
        imported
    }
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
