//! Making images: one layer on top of an optional base, the way `import`
//! and `commit` both need.
//!
//! An image is three kinds of blob: layers (tars), a config (how to run,
//! which diff_ids, history) and a manifest (which config, which layer blobs).
//! Adding a layer means storing the tar, appending its diff_id and a history
//! entry to a copy of the base's config, and listing the blob after the
//! base's layers in a new manifest. The base is not touched: images are
//! immutable, and both share the base's layer blobs.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use oci_spec::image::ImageConfiguration;
use serde_json::{json, Value};

use crate::digest::{Digest, HashingReader};
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
    let json_error = |why: String| StoreError::BadJson {
        what: "config",
        digest: String::new(),
        why,
    };
    let mut config: Value = match base {
        Some(base) => serde_json::to_value(&base.config).map_err(|e| json_error(e.to_string()))?,
        None => json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "Cmd": ["/bin/sh"],
            },
            "rootfs": { "type": "layers", "diff_ids": [] },
            "history": [],
        }),
    };
    let created = now();
    config["created"] = json!(created);
    push(
        &mut config["rootfs"]["diff_ids"],
        json!(layer.diff_id.as_str()),
    );
    push(
        &mut config["history"],
        json!({ "created": created, "created_by": created_by }),
    );
    let mut layers: Vec<Value> = match base {
        Some(base) => serde_json::to_value(base.manifest.layers())
            .map_err(|e| json_error(e.to_string()))?
            .as_array()
            .cloned()
            .unwrap_or_default(),
        None => Vec::new(),
    };
    layers.push(json!({
        "mediaType": if layer.gzip { LAYER_TAR_GZIP } else { LAYER_TAR },
        "digest": layer.blob.as_str(),
        "size": layer.size,
    }));
    let written = write_image(store, &config, layers)?;
    store.tag(reference, &written.manifest, written.manifest_size)?;
    store.image(reference.clone(), written.manifest)
}
// ANCHOR_END: add_layer

/// What [`write_image`] stored.
#[derive(Debug, Clone)]
pub struct Written {
    pub manifest: Digest,
    pub manifest_size: u64,
    pub config: Digest,
}

// ANCHOR: write_image
/// Store an image: its config, then a manifest naming the config and
/// `layers` (descriptors, base first). No name is given; see
/// [`Store::tag`]. The config is checked against the spec's types first,
/// so the store never holds one that other tools would reject.
pub fn write_image(
    store: &Store,
    config: &Value,
    layers: Vec<Value>,
) -> Result<Written, StoreError> {
    let _: ImageConfiguration =
        serde_json::from_value(config.clone()).map_err(|e| StoreError::BadJson {
            what: "config",
            digest: String::new(),
            why: e.to_string(),
        })?;
    let (config_digest, config_size) = store.put_json(config)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": { "mediaType": CONFIG, "digest": config_digest.as_str(), "size": config_size },
        "layers": layers,
    });
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
