//! The image store: an OCI image layout on disk.
//!
//! ```text
//! $CRATEBOX_ROOT/oci/
//! ├── oci-layout          {"imageLayoutVersion":"1.0.0"}
//! ├── index.json          every name:tag → the digest of its manifest
//! ├── blobs/sha256/
//! │   ├── 3f2a…           a manifest (JSON): config + layers
//! │   ├── 9c1e…           a config (JSON): how to run, diff_ids, history
//! │   └── 77b0…           a layer (tar or tar+gzip)
//! └── gc-roots/build-cache/
//!     └── 5d4c…           an image kept without a name (see Store::keep)
//! ```
//!
//! This is the same layout skopeo, umoci and podman read and write, so any
//! of them can look at our store and we at theirs. Every write goes to a
//! temporary file first and is renamed into place once complete: a reader
//! never sees half a blob, and a killed import leaves no half image. Updates
//! to index.json are serialised with flock(2), so two processes tagging at
//! once cannot lose each other's names.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::fcntl::{Flock, FlockArg};
use oci_spec::image::{
    Descriptor, DescriptorBuilder, ImageConfiguration, ImageIndex, ImageIndexBuilder,
    ImageManifest, MediaType, ANNOTATION_REF_NAME,
};
use thiserror::Error;

use crate::digest::{BadDigest, Digest, HashingWriter};
use crate::reference::Reference;

/// Why the store could not do what was asked.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A file operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Content did not match the digest it was supposed to have.
    #[error("blob {expected} does not match its digest (the content hashes to {actual}): the data is corrupt or was tampered with")]
    DigestMismatch {
        /// The digest it should have.
        expected: Digest,
        /// The digest it has.
        actual: Digest,
    },
    /// A manifest or index names a blob the store does not have.
    #[error("blob {0} is missing from the store")]
    MissingBlob(Digest),
    /// No image has this name.
    #[error("no image {0}: see `images` for what there is, or `import`/`load` one")]
    NoSuchImage(Reference),
    /// JSON that is not what the OCI spec says it should be.
    #[error("{what} {digest} is not valid: {why}")]
    BadJson {
        /// Manifest, config or index.
        what: &'static str,
        /// Which blob.
        digest: String,
        /// The parser's complaint.
        why: String,
    },
    /// A digest string that is not one.
    #[error(transparent)]
    BadDigest(#[from] BadDigest),
    /// A directory could not be written out as a layer.
    #[error("cannot make a layer of {dir}: {source}")]
    Layer {
        /// The directory.
        dir: PathBuf,
        /// Why (boxed: the diff module's error carries a path of its own).
        #[source]
        source: Box<crate::diff::DiffError>,
    },
}

/// A closure turning an io::Error into a [`StoreError::Io`] naming `path`.
pub(crate) fn io_error<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// An OCI image layout directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// An image as the store knows it: its name, manifest and config.
#[derive(Debug, Clone)]
pub struct Image {
    /// The name it was found under.
    pub reference: Reference,
    /// The digest of its manifest: the image's identity.
    pub manifest_digest: Digest,
    /// Which config and layers.
    pub manifest: ImageManifest,
    /// How to run it, and the diff_ids of its layers.
    pub config: ImageConfiguration,
}

/// One layer as an image lists it: the blob its manifest names (what is
/// stored, maybe compressed) and the diff_id its config names (what the
/// blob unpacks to). Neither alone is enough: the blob is what to read,
/// the diff_id is what chain IDs and the unpacked layers are keyed by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LayerDigests {
    /// The digest of the blob in the store.
    pub blob: Digest,
    /// The digest of the uncompressed tar.
    pub diff_id: Digest,
}

impl Image {
    /// The layers, base first.
    pub fn layers(&self) -> Result<Vec<LayerDigests>, StoreError> {
        let diff_ids = self.config.rootfs().diff_ids();
        if diff_ids.len() != self.manifest.layers().len() {
            return Err(StoreError::BadJson {
                what: "config",
                digest: self.manifest.config().digest().to_string(),
                why: format!(
                    "{} diff_ids for {} layers",
                    diff_ids.len(),
                    self.manifest.layers().len()
                ),
            });
        }
        self.manifest
            .layers()
            .iter()
            .zip(diff_ids)
            .map(|(layer, diff_id)| {
                Ok(LayerDigests {
                    blob: layer.digest().to_string().parse()?,
                    diff_id: diff_id.parse()?,
                })
            })
            .collect()
    }

    /// The image id docker shows: the config's digest.
    pub fn id(&self) -> String {
        self.manifest.config().digest().to_string()
    }
}

mod blob_writer;
mod roots;

pub use blob_writer::BlobWriter;

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Store {
    /// Open the layout at `root`, creating an empty one if there is none.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        let blobs = root.join("blobs/sha256");
        fs::create_dir_all(&blobs).map_err(io_error("cannot create", &blobs))?;
        let store = Store {
            root: root.to_path_buf(),
        };
        let layout = root.join("oci-layout");
        if !layout.exists() {
            store.write_atomically(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        if !root.join("index.json").exists() {
            let _lock = store.lock()?;
            if !root.join("index.json").exists() {
                store.write_index(&empty_index()?)?;
            }
        }
        Ok(store)
    }

    /// The layout's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `digest` lives.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(digest.hex())
    }

    /// Whether the store has the blob.
    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    fn temp_path(&self) -> PathBuf {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        self.root
            .join("blobs/sha256")
            .join(format!(".tmp-{}-{n}", std::process::id()))
    }

    /// Write `bytes` to `path` via a temp file, fsync and rename.
    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let temp = self.temp_path();
        let result = (|| {
            let mut file = File::create(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temp, path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result.map_err(io_error("cannot write", path))
    }

    // ANCHOR: put_blob
    /// Copy `reader` into the store, hashing as it goes; the blob is named by
    /// what it hashed to. With `expected`, refuse content that hashes to
    /// anything else — nothing of it is kept.
    pub fn put_blob(
        &self,
        reader: impl Read,
        expected: Option<&Digest>,
    ) -> Result<(Digest, u64), StoreError> {
        let mut writer = self.blob_writer()?;
        let mut reader = reader;
        io::copy(&mut reader, &mut writer).map_err(io_error("cannot write", &writer.temp))?;
        writer.commit(expected)
    }
    // ANCHOR_END: put_blob

    /// A blob being written: bytes go to a temporary file and are hashed
    /// on the way; [`BlobWriter::commit`] names it by its digest. Dropped
    /// uncommitted, it leaves nothing.
    pub fn blob_writer(&self) -> Result<BlobWriter, StoreError> {
        let temp = self.temp_path();
        let file = File::create(&temp).map_err(io_error("cannot create", &temp))?;
        Ok(BlobWriter {
            store: self.clone(),
            writer: Some(HashingWriter::new(file)),
            temp,
        })
    }

    /// Store a JSON document as a blob.
    pub fn put_json(&self, value: &impl serde::Serialize) -> Result<(Digest, u64), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|e| StoreError::BadJson {
            what: "document",
            digest: String::new(),
            why: e.to_string(),
        })?;
        self.put_blob(&bytes[..], None)
    }

    /// Read a whole blob, checking it still matches its digest.
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        let path = self.blob_path(digest);
        let bytes = fs::read(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::MissingBlob(digest.clone()),
            _ => StoreError::Io {
                what: "cannot read",
                path: path.clone(),
                source: e,
            },
        })?;
        let actual = Digest::of(&bytes);
        if actual != *digest {
            return Err(StoreError::DigestMismatch {
                expected: digest.clone(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Open a blob for streaming (large layers); the caller verifies.
    pub fn open_blob(&self, digest: &Digest) -> Result<File, StoreError> {
        let path = self.blob_path(digest);
        File::open(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::MissingBlob(digest.clone()),
            _ => StoreError::Io {
                what: "cannot open",
                path: path.clone(),
                source: e,
            },
        })
    }

    /// Hold the layout's lock until the guard is dropped.
    fn lock(&self) -> Result<Flock<File>, StoreError> {
        let dir = File::open(&self.root).map_err(io_error("cannot open", &self.root))?;
        Flock::lock(dir, FlockArg::LockExclusive).map_err(|(_, errno)| StoreError::Io {
            what: "cannot lock",
            path: self.root.clone(),
            source: errno.into(),
        })
    }

    /// The current index.json.
    pub fn index(&self) -> Result<ImageIndex, StoreError> {
        let path = self.root.join("index.json");
        let bytes = fs::read(&path).map_err(io_error("cannot read", &path))?;
        serde_json::from_slice(&bytes).map_err(|e| StoreError::BadJson {
            what: "index",
            digest: path.display().to_string(),
            why: e.to_string(),
        })
    }

    fn write_index(&self, index: &ImageIndex) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(index).map_err(|e| StoreError::BadJson {
            what: "index",
            digest: String::new(),
            why: e.to_string(),
        })?;
        self.write_atomically(&self.root.join("index.json"), &bytes)
    }

    /// Point `reference` at the manifest `manifest` (replacing what it named before).
    pub fn tag(
        &self,
        reference: &Reference,
        manifest: &Digest,
        size: u64,
    ) -> Result<(), StoreError> {
        self.tag_as(reference, manifest, size, MediaType::ImageManifest)
    }

    /// [`Store::tag`] for a manifest of another media type (docker's
    /// schema 2, as pulled).
    pub fn tag_as(
        &self,
        reference: &Reference,
        manifest: &Digest,
        size: u64,
        media_type: MediaType,
    ) -> Result<(), StoreError> {
        let _lock = self.lock()?;
        let mut index = self.index()?;
        let name = reference.to_string();
        let mut manifests: Vec<Descriptor> = index
            .manifests()
            .iter()
            .filter(|d| ref_name(d).as_deref() != Some(name.as_str()))
            .cloned()
            .collect();
        let descriptor = DescriptorBuilder::default()
            .media_type(media_type)
            .digest(
                manifest
                    .as_str()
                    .parse::<oci_spec::image::Digest>()
                    .map_err(|e| StoreError::BadJson {
                        what: "digest",
                        digest: manifest.to_string(),
                        why: e.to_string(),
                    })?,
            )
            .size(size)
            .annotations(
                [(ANNOTATION_REF_NAME.to_string(), name)]
                    .into_iter()
                    .collect::<std::collections::HashMap<_, _>>(),
            )
            .build()
            .map_err(|e| StoreError::BadJson {
                what: "descriptor",
                digest: manifest.to_string(),
                why: e.to_string(),
            })?;
        manifests.push(descriptor);
        index.set_manifests(manifests);
        self.write_index(&index)
    }

    /// Give the image named `from` the name `to` too (`tag`), keeping its
    /// manifest's descriptor as it is (media type, size).
    pub fn retag(&self, from: &Reference, to: &Reference) -> Result<(), StoreError> {
        let _lock = self.lock()?;
        let mut index = self.index()?;
        let (from_name, to_name) = (from.to_string(), to.to_string());
        let mut descriptor = index
            .manifests()
            .iter()
            .find(|d| ref_name(d).as_deref() == Some(from_name.as_str()))
            .cloned()
            .ok_or_else(|| StoreError::NoSuchImage(from.clone()))?;
        let mut annotations = descriptor.annotations().clone().unwrap_or_default();
        annotations.insert(ANNOTATION_REF_NAME.to_string(), to_name.clone());
        descriptor.set_annotations(Some(annotations));
        let mut manifests: Vec<Descriptor> = index
            .manifests()
            .iter()
            .filter(|d| ref_name(d).as_deref() != Some(to_name.as_str()))
            .cloned()
            .collect();
        manifests.push(descriptor);
        index.set_manifests(manifests);
        self.write_index(&index)
    }

    /// Remove the name `reference`. Its blobs stay until [`Store::gc`].
    pub fn untag(&self, reference: &Reference) -> Result<(), StoreError> {
        let _lock = self.lock()?;
        let mut index = self.index()?;
        let name = reference.to_string();
        let before = index.manifests().len();
        let manifests: Vec<Descriptor> = index
            .manifests()
            .iter()
            .filter(|d| ref_name(d).as_deref() != Some(name.as_str()))
            .cloned()
            .collect();
        if manifests.len() == before {
            return Err(StoreError::NoSuchImage(reference.clone()));
        }
        index.set_manifests(manifests);
        self.write_index(&index)
    }

    /// Every name in the store with its manifest digest.
    pub fn list(&self) -> Result<Vec<(Reference, Digest)>, StoreError> {
        let mut out = Vec::new();
        for descriptor in self.index()?.manifests() {
            if let Some(reference) = ref_name(descriptor).and_then(|n| n.parse().ok()) {
                out.push((reference, descriptor.digest().to_string().parse()?));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Look an image up by name and read its manifest and config.
    pub fn resolve(&self, reference: &Reference) -> Result<Image, StoreError> {
        let manifest_digest = self
            .list()?
            .into_iter()
            .find(|(r, _)| r == reference)
            .map(|(_, d)| d)
            .ok_or_else(|| StoreError::NoSuchImage(reference.clone()))?;
        self.image(reference.clone(), manifest_digest)
    }

    /// Read the manifest `manifest_digest` and its config.
    pub fn image(
        &self,
        reference: Reference,
        manifest_digest: Digest,
    ) -> Result<Image, StoreError> {
        let manifest: ImageManifest = self.read_json("manifest", &manifest_digest)?;
        let config_digest: Digest = manifest.config().digest().to_string().parse()?;
        let config: ImageConfiguration = self.read_json("config", &config_digest)?;
        Ok(Image {
            reference,
            manifest_digest,
            manifest,
            config,
        })
    }

    /// Read and parse the config blob `digest`.
    pub fn image_config(&self, digest: &Digest) -> Result<ImageConfiguration, StoreError> {
        self.read_json("config", digest)
    }

    fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        what: &'static str,
        digest: &Digest,
    ) -> Result<T, StoreError> {
        let bytes = self.read_blob(digest)?;
        let bad = |e: serde_json::Error| StoreError::BadJson {
            what,
            digest: digest.to_string(),
            why: e.to_string(),
        };
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).map_err(bad)?;
        // The spec makes a config's `history` optional; the parser's type
        // does not, so a config without one (as other tools write) gets an
        // empty one. The blob itself stays as it is.
        if what == "config" && value.get("history").is_none() {
            if let Some(object) = value.as_object_mut() {
                object.insert("history".into(), serde_json::Value::Array(Vec::new()));
            }
        }
        serde_json::from_value(value).map_err(bad)
    }
}

/// The `org.opencontainers.image.ref.name` annotation of a descriptor.
pub fn ref_name(descriptor: &Descriptor) -> Option<String> {
    descriptor
        .annotations()
        .as_ref()?
        .get(ANNOTATION_REF_NAME)
        .cloned()
}

fn empty_index() -> Result<ImageIndex, StoreError> {
    ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(Vec::new())
        .build()
        .map_err(|e| StoreError::BadJson {
            what: "index",
            digest: String::new(),
            why: e.to_string(),
        })
}
