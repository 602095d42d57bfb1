//! The build cache: which image each step made last time.
//!
//! One small file per step, `build-cache/<key>`, holding the manifest digest
//! of the image the step produced. The key (see [`crate::checksum`]) covers
//! everything the step's result depends on, so a file with that name *is*
//! the answer. An entry whose image has since been removed from the store
//! (by `rmi`) is simply a miss: nothing needs invalidating.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use cratebox_image::digest::Digest;
use cratebox_image::reference::Reference;
use cratebox_image::store::Store;

use crate::state::State;

/// The cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache at `root`, created if missing.
    pub fn open(root: &Path) -> std::io::Result<Cache> {
        fs::create_dir_all(root)?;
        Ok(Cache {
            root: root.to_path_buf(),
        })
    }

    // ANCHOR: lookup
    /// The image a step with `key` made before, if it is still whole in
    /// the store.
    pub fn lookup(&self, store: &Store, key: &Digest) -> Option<State> {
        let text = fs::read_to_string(self.root.join(key.hex())).ok()?;
        let manifest: Digest = text.trim().parse().ok()?;
        // The name is only for messages; the image is found by digest.
        let reference: Reference = "build-cache:latest".parse().ok()?;
        let image = store.image(reference, manifest).ok()?;
        let state = State::of(&image).ok()?;
        state
            .blobs()
            .iter()
            .all(|blob| store.has_blob(blob))
            .then_some(state)
    }
    // ANCHOR_END: lookup

    /// Remember that the step with `key` made `state`'s image. Written to a
    /// temporary file and renamed, so a reader sees all of it or nothing.
    pub fn record(&self, key: &Digest, state: &State) -> std::io::Result<()> {
        let Some(manifest) = &state.manifest else {
            return Ok(());
        };
        let temp = self
            .root
            .join(format!(".tmp-{}-{}", std::process::id(), key.short()));
        let mut file = fs::File::create(&temp)?;
        file.write_all(manifest.as_str().as_bytes())?;
        drop(file);
        fs::rename(&temp, self.root.join(key.hex()))
    }
}
