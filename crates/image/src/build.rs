//! Making images: one layer on top of an optional base, the way `import`
//! and `commit` both need.
//!
//! An image is three kinds of blob: layers (tars), a config (how to run,
//! which diff_ids, history) and a manifest (which config, which layer blobs).
//! Adding a layer means storing the tar, appending its diff_id and a history
//! entry to a copy of the base's config, and listing the blob after the
//! base's layers in a new manifest. The base is not touched: images are
//! immutable, and both share the base's layer blobs.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use oci_spec::image::ImageConfiguration;
use serde_json::{json, Value};

use crate::diff::write_layer;
use crate::digest::{Digest, HashingReader};
use crate::new_image::{Layer, NewImage};
use crate::reference::Reference;
use crate::store::{io_error, Image, Store, StoreError};

/// Layer media types, plain and gzipped.
pub const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// See [`LAYER_TAR`].
pub const LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// A layer file about to be added: its blob and its uncompressed digest.
#[derive(Debug, Clone)]
pub struct LayerFile {
    /// Digest of the file as stored (compressed or not).
    pub blob: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// Digest of the uncompressed tar: the config's diff_id.
    pub diff_id: Digest,
    /// Whether the file is gzipped.
    pub gzip: bool,
}

/// Whether `path` starts with gzip's magic bytes.
pub fn is_gzip(path: &Path) -> Result<bool, StoreError> {
    let mut magic = [0u8; 2];
    let mut file = File::open(path).map_err(io_error("cannot open", path))?;
    let n = file
        .read(&mut magic)
        .map_err(io_error("cannot read", path))?;
    Ok(n == 2 && magic == [0x1f, 0x8b])
}

/// Check that `path` is a whole, readable tar (gzipped or not), and compute
/// its diff_id. A truncated download or a corrupt gzip fails here, before
/// anything reaches the store.
pub fn inspect_layer_file(path: &Path) -> Result<(Digest, bool), StoreError> {
    let gzip = is_gzip(path)?;
    let file = BufReader::new(File::open(path).map_err(io_error("cannot open", path))?);
    let uncompressed: Box<dyn Read> = if gzip {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut hashing = HashingReader::new(uncompressed);
    let bad = |why: String| StoreError::BadJson {
        what: "layer",
        digest: path.display().to_string(),
        why,
    };
    {
        let mut archive = tar::Archive::new(&mut hashing);
        let entries = archive
            .entries()
            .map_err(|e| bad(format!("not a tar archive: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| bad(format!("corrupt or truncated: {e}")))?;
            std::io::copy(&mut entry, &mut std::io::sink())
                .map_err(|e| bad(format!("corrupt or truncated: {e}")))?;
        }
    }
    // Whatever follows the tar's end marker still counts toward the digest.
    std::io::copy(&mut hashing, &mut std::io::sink())
        .map_err(|e| bad(format!("corrupt or truncated: {e}")))?;
    Ok((hashing.finish().0, gzip))
}

/// Put a layer file into the store.
pub fn store_layer_file(store: &Store, path: &Path) -> Result<LayerFile, StoreError> {
    let (diff_id, gzip) = inspect_layer_file(path)?;
    let file = File::open(path).map_err(io_error("cannot open", path))?;
    let (blob, size) = store.put_blob(BufReader::new(file), None)?;
    Ok(LayerFile {
        blob,
        size,
        diff_id,
        gzip,
    })
}

/// RFC 3339 "now", as configs and history entries record it.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

// ANCHOR: add_layer
/// A new image `reference`: `base`'s layers plus `layer`, with a history
/// entry saying `created_by`. Without a base, a fresh config that runs
/// `/bin/sh` with docker's default PATH.
pub fn add_layer(
    store: &Store,
    base: Option<&Image>,
    layer: &LayerFile,
    created_by: &str,
    reference: &Reference,
) -> Result<Image, StoreError> {
    let mut image = match base {
        Some(base) => NewImage::of(store, base)?,
        None => NewImage::root_filesystem(),
    };
    image.add_layer(Some(Layer::from(layer)), created_by);
    let written = image.write(store)?.clone();
    store.tag(reference, &written.manifest, written.manifest_size)?;
    store.image(reference.clone(), written.manifest)
}
// ANCHOR_END: add_layer

// ANCHOR: store_layer_dir
/// Turn a directory in overlayfs's upper-dir form (a container's changes,
/// or a build step's files) into a layer blob in the store: written out as
/// a tar at `temp` (removed afterwards, whatever happens), then stored.
pub fn store_layer_dir(store: &Store, dir: &Path, temp: &Path) -> Result<LayerFile, StoreError> {
    let stored = (|| {
        let file = File::create(temp).map_err(io_error("cannot create", temp))?;
        let mut writer = BufWriter::new(file);
        write_layer(dir, &mut writer).map_err(|source| StoreError::Layer {
            dir: dir.to_path_buf(),
            source: Box::new(source),
        })?;
        writer.flush().map_err(io_error("cannot write", temp))?;
        drop(writer);
        store_layer_file(store, temp)
    })();
    let _ = fs::remove_file(temp);
    stored
}
// ANCHOR_END: store_layer_dir

/// What [`write_image`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The manifest's digest: what a name points at.
    pub manifest: Digest,
    /// The manifest's size, for the index entry that names it.
    pub manifest_size: u64,
    /// The config's digest: the image ID.
    pub config: Digest,
}

// ANCHOR: write_image
/// Store an image: its config, then a manifest naming the config and
/// `layers` (descriptors, base first), with `annotations` if there are
/// any. No name is given; see [`Store::tag`]. The config is checked against
/// the spec's types first, so the store never holds one that other tools
/// would reject.
pub fn write_image(
    store: &Store,
    config: &Value,
    layers: Vec<Value>,
    annotations: &BTreeMap<String, String>,
) -> Result<Written, StoreError> {
    let _: ImageConfiguration =
        serde_json::from_value(config.clone()).map_err(|e| StoreError::BadJson {
            what: "config",
            digest: String::new(),
            why: e.to_string(),
        })?;
    let (config_digest, config_size) = store.put_json(config)?;
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": { "mediaType": CONFIG, "digest": config_digest.as_str(), "size": config_size },
        "layers": layers,
    });
    if !annotations.is_empty() {
        manifest["annotations"] = json!(annotations);
    }
    let (manifest_digest, manifest_size) = store.put_json(&manifest)?;
    Ok(Written {
        manifest: manifest_digest,
        manifest_size,
        config: config_digest,
    })
}
// ANCHOR_END: write_image

/// Append `item` to a JSON array (making one if `array` is not).
pub fn push(array: &mut Value, item: Value) {
    match array.as_array_mut() {
        Some(items) => items.push(item),
        None => *array = json!([item]),
    }
}
