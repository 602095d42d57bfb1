//! `save` and `load`: an image as one file, an OCI archive.
//!
//! An OCI archive is simply an OCI layout in a tar: `oci-layout`,
//! `index.json` and the blobs. skopeo calls it `oci-archive:FILE`, podman
//! `podman save --format oci-archive`. Saving copies the image's blobs out;
//! loading copies them in, checking every one against its digest, and only
//! then names the image — a bad archive leaves nothing behind.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read};
use std::path::Path;

use oci_spec::image::{ImageIndex, ImageManifest, ANNOTATION_REF_NAME};
use serde_json::json;

use crate::digest::Digest;
use crate::reference::Reference;
use crate::store::{io_error, ref_name, Image, Store, StoreError};

/// The annotation containerd and podman use for the full image name.
const CONTAINERD_NAME: &str = "io.containerd.image.name";

// ANCHOR: save
/// Write `image` as an OCI archive at `out` (via a temp file and rename).
pub fn save(store: &Store, image: &Image, out: &Path) -> Result<(), StoreError> {
    let temp = out.with_extension("partial");
    let written = (|| {
        let file = File::create(&temp).map_err(io_error("cannot create", &temp))?;
        let mut tar = tar::Builder::new(BufWriter::new(file));
        let mut add = |name: &str, bytes: &[u8]| -> Result<(), StoreError> {
            let mut header = tar::Header::new_ustar();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, bytes)
                .map_err(io_error("cannot write", &temp))
        };
        add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": image.manifest_digest.as_str(),
                "size": store.read_blob(&image.manifest_digest)?.len(),
                "annotations": {
                    ANNOTATION_REF_NAME: image.reference.tag,
                    CONTAINERD_NAME: image.reference.to_string(),
                },
            }],
        });
        add("index.json", index.to_string().as_bytes())?;
        let mut blobs = vec![image.manifest_digest.clone(), image.id().parse()?];
        blobs.extend(image.layers()?.into_iter().map(|layer| layer.blob));
        for blob in blobs {
            let path = store.blob_path(&blob);
            tar.append_path_with_name(&path, format!("blobs/sha256/{}", blob.hex()))
                .map_err(io_error("cannot add", &path))?;
        }
        let writer = tar.into_inner().map_err(io_error("cannot finish", &temp))?;
        writer
            .into_inner()
            .map_err(|e| StoreError::Io {
                what: "cannot flush",
                path: temp.clone(),
                source: e.into_error(),
            })?
            .sync_all()
            .map_err(io_error("cannot sync", &temp))?;
        fs::rename(&temp, out).map_err(io_error("cannot write", out))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}
// ANCHOR_END: save

// ANCHOR: load
/// Load every image of the OCI archive `path`, returning their names. Blobs
/// are verified against their digests as they are copied in, and each image
/// must pass `accept` (the engine unpacks its layers there, refusing hostile
/// ones) before it is named; any failure removes what this load added.
pub fn load(
    store: &Store,
    path: &Path,
    accept: impl Fn(&Image) -> Result<(), String>,
) -> Result<Vec<Reference>, StoreError> {
    let mut added: Vec<Digest> = Vec::new();
    let result = load_into(store, path, &mut added, &accept);
    if result.is_err() {
        for blob in &added {
            let _ = fs::remove_file(store.blob_path(blob));
        }
    }
    result
}
// ANCHOR_END: load

fn load_into(
    store: &Store,
    path: &Path,
    added: &mut Vec<Digest>,
    accept: &dyn Fn(&Image) -> Result<(), String>,
) -> Result<Vec<Reference>, StoreError> {
    let bad = |why: String| StoreError::BadJson {
        what: "archive",
        digest: path.display().to_string(),
        why,
    };
    let file = File::open(path).map_err(io_error("cannot open", path))?;
    let mut archive = tar::Archive::new(io::BufReader::new(file));
    let mut index: Option<ImageIndex> = None;
    let mut layout_seen = false;
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(format!("corrupt or truncated: {e}")))?;
        // Only these names matter, and nothing from the archive is ever
        // written under its own name: a hostile `../x` goes nowhere.
        let name = entry
            .path()
            .map_err(|e| bad(e.to_string()))?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        if name == "oci-layout" {
            layout_seen = true;
        } else if name == "index.json" {
            let mut text = Vec::new();
            entry
                .read_to_end(&mut text)
                .map_err(|e| bad(e.to_string()))?;
            index =
                Some(serde_json::from_slice(&text).map_err(|e| bad(format!("index.json: {e}")))?);
        } else if let Some(hex) = name
            .strip_prefix("blobs/sha256/")
            .filter(|hex| !hex.is_empty() && entry.header().entry_type().is_file())
        {
            let expected: Digest = format!("sha256:{hex}").parse()?;
            let existed = store.has_blob(&expected);
            store.put_blob(&mut entry, Some(&expected))?;
            if !existed {
                added.push(expected);
            }
        }
    }
    if !layout_seen {
        return Err(bad("no oci-layout file: this is not an OCI archive (docker save's format is not supported; use skopeo copy docker-archive:... oci-archive:...)".into()));
    }
    let index = index.ok_or_else(|| bad("no index.json".into()))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_else(|| "loaded".into());
    let mut pending = Vec::new();
    for descriptor in index.manifests() {
        let manifest_digest: Digest = descriptor.digest().to_string().parse()?;
        let manifest_bytes = store.read_blob(&manifest_digest)?;
        let manifest: ImageManifest = serde_json::from_slice(&manifest_bytes).map_err(|e| {
            bad(format!(
                "manifest {manifest_digest} (an index of several platforms is not supported): {e}"
            ))
        })?;
        // Every blob the manifest names must have come with it.
        let mut needed = BTreeSet::new();
        needed.insert(manifest.config().digest().to_string());
        needed.extend(manifest.layers().iter().map(|l| l.digest().to_string()));
        for blob in needed {
            let digest: Digest = blob.parse()?;
            if !store.has_blob(&digest) {
                return Err(StoreError::MissingBlob(digest));
            }
        }
        let reference = name_for(descriptor, &stem)?;
        let image = store.image(reference.clone(), manifest_digest.clone())?;
        image.layers()?;
        accept(&image).map_err(|why| StoreError::BadJson {
            what: "image",
            digest: reference.to_string(),
            why,
        })?;
        pending.push((reference, manifest_digest, manifest_bytes.len() as u64));
    }
    // Name them only once every image of the archive passed.
    let mut names = Vec::new();
    for (reference, digest, size) in pending {
        store.tag(&reference, &digest, size)?;
        names.push(reference);
    }
    Ok(names)
}

/// What to call a loaded image: containerd's full name if given, else the
/// ref.name annotation if it is a whole `name:tag`, else the archive's file
/// name with ref.name (a bare tag, as skopeo and umoci write it) as the tag.
fn name_for(descriptor: &oci_spec::image::Descriptor, stem: &str) -> Result<Reference, StoreError> {
    let annotations = descriptor.annotations().clone().unwrap_or_default();
    let bad = |e: crate::reference::BadReference| StoreError::BadJson {
        what: "image name",
        digest: descriptor.digest().to_string(),
        why: e.to_string(),
    };
    if let Some(full) = annotations.get(CONTAINERD_NAME) {
        let short = full
            .trim_start_matches("docker.io/")
            .trim_start_matches("localhost/");
        return short.parse().map_err(bad);
    }
    match ref_name(descriptor) {
        Some(name) if name.contains(':') => name.parse().map_err(bad),
        Some(tag) => format!("{stem}:{tag}").parse().map_err(bad),
        None => format!("{stem}:latest").parse().map_err(bad),
    }
}
