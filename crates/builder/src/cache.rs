//! The build cache: which image each step made last time.
//!
//! One small file per step, `build-cache/<key>`, holding the manifest digest
//! of the image the step produced. The key (see [`crate::checksum`]) covers
//! everything the step's result depends on, so a file with that name *is*
//! the answer. An entry whose image has since left the store is simply a
//! miss: nothing needs invalidating.
//!
//! The images have no names, so the store would collect them as garbage at
//! the next `rmi`; the cache asks the store to keep each one
//! ([`Store::keep`]), and `prune` lets them all go. The store knows only
//! that something keeps them, never why: this file is the builder's alone.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use cratebox_image::digest::Digest;
use cratebox_image::new_image::NewImage;
use cratebox_image::reference::Reference;
use cratebox_image::store::Store;
use cratebox_runtime::engine::Engine;
use cratebox_runtime::EngineError;

use crate::error::StepError;

/// What the store calls the builder when it keeps images for it.
pub const STORE_OWNER: &str = "build-cache";

/// The cache directory, under the state root.
const CACHE_DIR: &str = "build-cache";

/// Step key → the image that step made.
#[derive(Debug, Clone)]
pub struct BuildCache {
    root: PathBuf,
}

impl BuildCache {
    /// The cache at `root`, created if missing.
    pub fn open(root: &Path) -> io::Result<BuildCache> {
        fs::create_dir_all(root)?;
        Ok(BuildCache {
            root: root.to_path_buf(),
        })
    }

    /// Where the engine's build cache is.
    pub fn dir(engine: &Engine) -> PathBuf {
        engine.state_root().join(CACHE_DIR)
    }

    // ANCHOR: lookup
    /// The image a step with `key` made before, if it is still whole in
    /// the store.
    pub fn lookup(&self, store: &Store, key: &Digest) -> Option<NewImage> {
        let text = fs::read_to_string(self.root.join(key.hex())).ok()?;
        let manifest: Digest = text.trim().parse().ok()?;
        // The name is only for messages; the image is found by digest.
        let reference = Reference {
            name: STORE_OWNER.into(),
            tag: "cached".into(),
        };
        let image = store.image(reference, manifest).ok()?;
        let image = NewImage::of(store, &image).ok()?;
        image
            .blobs()
            .iter()
            .all(|blob| store.has_blob(blob))
            .then_some(image)
    }
    // ANCHOR_END: lookup

    /// Remember that the step with `key` made `image`, and have the store
    /// keep it. Written to a temporary file and renamed, so a reader sees
    /// all of it or nothing.
    pub fn record(&self, store: &Store, key: &Digest, image: &NewImage) -> Result<(), StepError> {
        let Some(written) = &image.written else {
            return Ok(());
        };
        store.keep(STORE_OWNER, &written.manifest)?;
        let temp = self
            .root
            .join(format!(".tmp-{}-{}", std::process::id(), key.short()));
        let write = || -> io::Result<()> {
            let mut file = fs::File::create(&temp)?;
            file.write_all(written.manifest.as_str().as_bytes())?;
            drop(file);
            fs::rename(&temp, self.root.join(key.hex()))
        };
        write().map_err(StepError::Record)
    }

    /// Forget every entry; returns how many there were.
    fn clear(&self) -> io::Result<usize> {
        let mut entries = 0;
        for entry in fs::read_dir(&self.root)?.flatten() {
            fs::remove_file(entry.path())?;
            entries += 1;
        }
        Ok(entries)
    }
}

/// What [`prune_cache`] removed.
#[derive(Debug, Clone, Default)]
pub struct Pruned {
    /// Cache entries forgotten.
    pub entries: usize,
    /// Blobs deleted from the store.
    pub blobs: Vec<Digest>,
}

/// `prune`: empty the build cache, stop keeping its images, and delete
/// every blob and unpacked layer that only they used.
pub fn prune_cache(engine: &Engine) -> Result<Pruned, EngineError> {
    let dir = BuildCache::dir(engine);
    let cache = BuildCache::open(&dir).map_err(|source| EngineError::Io {
        what: "open the build cache",
        path: dir.clone(),
        source,
    })?;
    let entries = cache.clear().map_err(|source| EngineError::Io {
        what: "empty the build cache",
        path: cache.root.clone(),
        source,
    })?;
    engine.store.release_all(STORE_OWNER)?;
    let blobs = engine.collect_garbage()?;
    Ok(Pruned { entries, blobs })
}
