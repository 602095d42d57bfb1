//! Unpacked layers, each once, shared by every image and container.
//!
//! ```text
//! $CRATEBOX_ROOT/layers/
//! ├── 5f70bf18…/   chain ID of A            (ubuntu's base layer)
//! ├── 9a1c0d4e…/   chain ID of A+B
//! ├── c3d2e1f0…/   chain ID of A+B+C        ← ubuntu's top
//! └── 7e8f9a0b…/   chain ID of A+B+C+nginx  ← nginx adds only this one
//! ```
//!
//! Each directory holds one layer's own changes in the form overlayfs reads
//! as a lower layer (whiteouts as 0/0 character devices, opaque directories
//! marked by an xattr). It is keyed by chain ID, not diff_id, because a
//! layer's whiteouts only mean something on top of the same parents.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use thiserror::Error;

use crate::chain::chain_ids;
use crate::digest::{Digest, HashingReader};
use crate::store::{Image, LayerDigests, Store, StoreError};

/// Why a layer could not be made ready.
#[derive(Debug, Error)]
pub enum LayerError {
    /// Reading the image failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The layer's content was refused while unpacking.
    #[error("layer {blob}: {source}")]
    Unpack {
        /// The layer blob.
        blob: Digest,
        /// What was wrong.
        #[source]
        source: crate::unpack::UnpackError,
    },
    /// The unpacked content is not what the config says it is.
    #[error("layer {blob} unpacks to {actual}, but the image config says {expected}: the image is corrupt")]
    WrongDiffId {
        /// The layer blob.
        blob: Digest,
        /// diff_id in the config.
        expected: Digest,
        /// What the content hashed to.
        actual: String,
    },
    /// A file operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// The directory of unpacked layers.
#[derive(Debug, Clone)]
pub struct UnpackedLayers {
    root: PathBuf,
}

static TEMP: AtomicU64 = AtomicU64::new(0);

impl UnpackedLayers {
    /// The unpacked layers under `root`, created if missing.
    pub fn open(root: &Path) -> Result<UnpackedLayers, LayerError> {
        fs::create_dir_all(root).map_err(|source| LayerError::Io {
            what: "cannot create",
            path: root.to_path_buf(),
            source,
        })?;
        Ok(UnpackedLayers {
            root: root.to_path_buf(),
        })
    }

    /// Where the layer with this chain ID is unpacked.
    pub fn dir(&self, chain_id: &Digest) -> PathBuf {
        self.root.join(chain_id.hex())
    }

    // ANCHOR: ensure
    /// The unpacked directories of `image`'s layers, base first, unpacking
    /// the ones not seen before. Each is unpacked into a temporary directory
    /// and renamed into place when complete, so a crash never leaves a
    /// half layer under a real name.
    pub fn ensure(&self, store: &Store, image: &Image) -> Result<Vec<PathBuf>, LayerError> {
        self.ensure_layers(store, &image.layers()?)
    }

    /// [`UnpackedLayers::ensure`] for a list of layers, base first: an image
    /// that has no name yet, like a build's intermediate ones.
    pub fn ensure_layers(
        &self,
        store: &Store,
        layers: &[LayerDigests],
    ) -> Result<Vec<PathBuf>, LayerError> {
        let diff_ids: Vec<Digest> = layers.iter().map(|l| l.diff_id.clone()).collect();
        let mut dirs = Vec::new();
        for (layer, chain_id) in layers.iter().zip(chain_ids(&diff_ids)) {
            let dir = self.dir(&chain_id);
            if !dir.is_dir() {
                self.unpack(store, &layer.blob, &layer.diff_id, &chain_id)?;
            }
            dirs.push(dir);
        }
        Ok(dirs)
    }
    // ANCHOR_END: ensure

    /// Unpack one layer blob as the layer with `chain_id`, checking the
    /// blob's digest and the content's diff_id on the way.
    pub fn unpack(
        &self,
        store: &Store,
        blob: &Digest,
        diff_id: &Digest,
        chain_id: &Digest,
    ) -> Result<(), LayerError> {
        let file = BufReader::new(store.open_blob(blob)?);
        self.unpack_from(file, &store.blob_path(blob), blob, diff_id, chain_id)
    }

    /// [`UnpackedLayers::unpack`] from any reader of the blob's bytes (a
    /// download, as it arrives). `source` names it in errors. The whole
    /// reader is consumed; the layer is put in place only when the bytes
    /// hash to `blob` and the tar inside to `diff_id`.
    pub fn unpack_from(
        &self,
        blob_bytes: impl io::Read,
        source: &Path,
        blob: &Digest,
        diff_id: &Digest,
        chain_id: &Digest,
    ) -> Result<(), LayerError> {
        let dir = &self.dir(chain_id);
        let n = TEMP.fetch_add(1, Ordering::Relaxed);
        let temp = self.root.join(format!(".tmp-{}-{n}", std::process::id()));
        let io = |what, path: &Path| {
            let path = path.to_path_buf();
            move |source| LayerError::Io { what, path, source }
        };
        fs::create_dir(&temp).map_err(io("cannot create", &temp))?;
        let result = (|| {
            let mut reader = HashingReader::new(blob_bytes);
            let stats = crate::unpack::unpack_layer(&mut reader, &temp).map_err(|source| {
                LayerError::Unpack {
                    blob: blob.clone(),
                    source,
                }
            })?;
            // The blob too must be what its name says.
            io::copy(&mut reader, &mut io::sink()).map_err(io("cannot read", source))?;
            let (actual_blob, _) = reader.finish();
            if actual_blob != *blob {
                return Err(StoreError::DigestMismatch {
                    expected: blob.clone(),
                    actual: actual_blob,
                }
                .into());
            }
            if stats.diff_id != diff_id.as_str() {
                return Err(LayerError::WrongDiffId {
                    blob: blob.clone(),
                    expected: diff_id.clone(),
                    actual: stats.diff_id,
                });
            }
            match fs::rename(&temp, dir) {
                Ok(()) => Ok(()),
                // Another process unpacked the same layer first: use theirs.
                Err(_) if dir.is_dir() => {
                    let _ = fs::remove_dir_all(&temp);
                    Ok(())
                }
                Err(source) => Err(LayerError::Io {
                    what: "cannot store",
                    path: dir.to_path_buf(),
                    source,
                }),
            }
        })();
        if result.is_err() {
            let _ = fs::remove_dir_all(&temp);
        }
        result
    }

    /// Remove every unpacked layer whose chain ID is not in `keep`.
    pub fn gc(&self, keep: &BTreeSet<Digest>) -> Result<usize, LayerError> {
        let mut removed = 0;
        let entries = fs::read_dir(&self.root).map_err(|source| LayerError::Io {
            what: "cannot read",
            path: self.root.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(chain_id) = format!("sha256:{name}").parse::<Digest>() else {
                continue;
            };
            if !keep.contains(&chain_id) {
                fs::remove_dir_all(entry.path()).map_err(|source| LayerError::Io {
                    what: "cannot remove",
                    path: entry.path(),
                    source,
                })?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The chain IDs of an image's layers: what keeps their directories alive.
pub fn chain_ids_of(image: &Image) -> Result<Vec<Digest>, StoreError> {
    let diff_ids: Vec<Digest> = image.layers()?.into_iter().map(|l| l.diff_id).collect();
    Ok(chain_ids(&diff_ids))
}
