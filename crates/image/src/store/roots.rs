//! Images kept without a name (a build's cache, a container's image), and
//! garbage collection: every blob no name and no keeper reaches goes.
//!
//! ```text
//! gc-roots/OWNER/HEX      one empty file per manifest OWNER keeps
//! ```

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io;
use std::path::PathBuf;

use super::{io_error, Image, Store, StoreError};
use crate::digest::Digest;
use crate::reference::Reference;

/// The directory, inside the layout, of images kept without a name. The
/// OCI layout allows files of its own beside `blobs/` and `index.json`;
/// other tools ignore it.
const ROOTS_DIR: &str = "gc-roots";

impl Store {
    /// Where the images kept without a name by `owner` are listed.
    fn roots_dir(&self, owner: &str) -> PathBuf {
        self.root.join(ROOTS_DIR).join(owner)
    }

    /// Keep the image with manifest `manifest` from [`Store::gc`] although
    /// it has no name, on behalf of `owner` (e.g. `build-cache`): one empty
    /// file, `gc-roots/OWNER/HEX`. The store never reads what the owner
    /// keeps them for.
    pub fn keep(&self, owner: &str, manifest: &Digest) -> Result<(), StoreError> {
        let dir = self.roots_dir(owner);
        fs::create_dir_all(&dir).map_err(io_error("cannot create", &dir))?;
        let path = dir.join(manifest.hex());
        File::create(&path).map_err(io_error("cannot create", &path))?;
        Ok(())
    }

    /// Stop keeping one image on behalf of `owner` (nothing happens if it
    /// was not kept).
    pub fn release(&self, owner: &str, manifest: &Digest) -> Result<(), StoreError> {
        let path = self.roots_dir(owner).join(manifest.hex());
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("cannot remove", &path)(e)),
        }
    }

    /// Stop keeping every image `owner` kept; returns how many there were.
    /// Their blobs go at the next [`Store::gc`], unless a name or another
    /// owner still reaches them.
    pub fn release_all(&self, owner: &str) -> Result<usize, StoreError> {
        let dir = self.roots_dir(owner);
        let count = self.kept_by(owner).len();
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(count),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io_error("cannot remove", &dir)(e)),
        }
    }

    /// The manifests `owner` keeps.
    fn kept_by(&self, owner: &str) -> Vec<Digest> {
        fs::read_dir(self.roots_dir(owner))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                format!("sha256:{}", entry.file_name().to_string_lossy())
                    .parse()
                    .ok()
            })
            .collect()
    }

    /// Every image that [`Store::gc`] keeps: the named ones, then those
    /// kept without a name (by any owner) whose blobs are all still here.
    pub fn reachable(&self) -> Result<Vec<Image>, StoreError> {
        let mut images = Vec::new();
        for (reference, manifest) in self.list()? {
            images.push(self.image(reference, manifest)?);
        }
        let owners = fs::read_dir(self.root.join(ROOTS_DIR))
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned());
        for owner in owners {
            let unnamed = Reference {
                name: owner.clone(),
                tag: "kept".into(),
            };
            for manifest in self.kept_by(&owner) {
                if let Ok(image) = self.image(unnamed.clone(), manifest) {
                    images.push(image);
                }
            }
        }
        Ok(images)
    }

    // ANCHOR: gc
    /// Delete every blob that no image in [`Store::reachable`] reaches
    /// through its manifest, config and layers. Returns the digests removed.
    pub fn gc(&self) -> Result<Vec<Digest>, StoreError> {
        let _lock = self.lock()?;
        let mut keep = BTreeSet::new();
        for image in self.reachable()? {
            keep.insert(image.manifest_digest.clone());
            keep.insert(image.id().parse()?);
            for layer in image.layers()? {
                keep.insert(layer.blob);
            }
        }
        let dir = self.root.join("blobs/sha256");
        let mut removed = Vec::new();
        for entry in fs::read_dir(&dir)
            .map_err(io_error("cannot read", &dir))?
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(digest) = format!("sha256:{name}").parse::<Digest>() else {
                continue;
            };
            if !keep.contains(&digest) {
                fs::remove_file(entry.path()).map_err(io_error("cannot remove", &entry.path()))?;
                removed.push(digest);
            }
        }
        Ok(removed)
    }
    // ANCHOR_END: gc
}
