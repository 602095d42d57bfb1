//! The smallest image worth pushing: one gzipped tar layer with one file, its config and its OCI manifest, written as an OCI image layout
//! or handed to a [`FakeRegistry`].

use std::fs;
use std::io::Write;
use std::path::Path;

use serde_json::json;

use super::fake::FakeRegistry;
use super::sha256_digest;

/// The media type of an OCI image manifest.
pub const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// A one-layer image, as bytes.
#[derive(Debug, Clone)]
pub struct TestImage {
    /// A gzipped tar holding `hello.txt`. Gzipped, as skopeo would
    /// otherwise compress it on push and the manifest digest would change.
    pub layer: Vec<u8>,
    /// The image config (JSON).
    pub config: Vec<u8>,
    /// The OCI manifest (JSON).
    pub manifest: Vec<u8>,
}

impl TestImage {
    /// An image whose only file, `hello.txt`, holds `text`.
    pub fn new(text: &str) -> TestImage {
        TestImage::from_tar(&tar_with_file("hello.txt", text.as_bytes()), "amd64", None)
    }

    /// A one-layer image of `tar` (gzipped here) for `architecture`.
    pub fn from_tar(tar: &[u8], architecture: &str, variant: Option<&str>) -> TestImage {
        TestImage::from_layer(
            tar,
            gzip(tar),
            "application/vnd.oci.image.layer.v1.tar+gzip",
            architecture,
            variant,
        )
    }

    /// A one-layer image of `tar` stored as `layer`, compressed as
    /// `layer_type` says.
    pub fn from_layer(
        tar: &[u8],
        layer: Vec<u8>,
        layer_type: &str,
        architecture: &str,
        variant: Option<&str>,
    ) -> TestImage {
        let mut config = json!({
            "architecture": architecture,
            "os": "linux",
            "config": {"Cmd": ["/hello.txt"]},
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(tar)]},
        });
        if let Some(variant) = variant {
            config["variant"] = json!(variant);
        }
        let config = serde_json::to_vec(&config).expect("config JSON");
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": descriptor("application/vnd.oci.image.config.v1+json", &config),
            "layers": [descriptor(layer_type, &layer)],
        });
        let manifest = serde_json::to_vec(&manifest).expect("manifest JSON");
        TestImage {
            layer,
            config,
            manifest,
        }
    }

    /// The manifest's digest: the image's name by content.
    pub fn manifest_digest(&self) -> String {
        sha256_digest(&self.manifest)
    }

    /// The layer's digest.
    pub fn layer_digest(&self) -> String {
        sha256_digest(&self.layer)
    }

    /// The config's digest.
    pub fn config_digest(&self) -> String {
        sha256_digest(&self.config)
    }

    /// Writes an OCI image layout in `dir` (created if missing) whose
    /// `index.json` names the image `tag`.
    pub fn write_layout(&self, dir: &Path, tag: &str) {
        let blobs = dir.join("blobs/sha256");
        fs::create_dir_all(&blobs).expect("create blobs/sha256");
        for bytes in [&self.layer, &self.config, &self.manifest] {
            let digest = sha256_digest(bytes);
            let hex = digest.trim_start_matches("sha256:");
            fs::write(blobs.join(hex), bytes).expect("write a blob");
        }
        let mut manifest = descriptor(MANIFEST_TYPE, &self.manifest);
        manifest["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        let index = json!({"schemaVersion": 2, "manifests": [manifest]});
        fs::write(dir.join("index.json"), index.to_string()).expect("write index.json");
        let marker = json!({"imageLayoutVersion": "1.0.0"});
        fs::write(dir.join("oci-layout"), marker.to_string()).expect("write oci-layout");
    }

    /// Has `fake` serve the image as `repo:tag`.
    pub fn serve(&self, fake: &FakeRegistry, repo: &str, tag: &str) {
        fake.add_manifest(repo, tag, MANIFEST_TYPE, &self.manifest);
        fake.add_blob(&self.config_digest(), &self.config);
        fake.add_blob(&self.layer_digest(), &self.layer);
    }
}

fn descriptor(media_type: &str, bytes: &[u8]) -> serde_json::Value {
    json!({"mediaType": media_type, "digest": sha256_digest(bytes), "size": bytes.len()})
}

/// A tar with one regular file, with fixed owner and times so the same
/// text always gives the same digest.
pub fn tar_with_file(name: &str, contents: &[u8]) -> Vec<u8> {
    let mut header = tar::Header::new_ustar();
    header.set_path(name).expect("a short path");
    one_file_tar(header, contents)
}

/// A tar with one file named `name` as is, `..` and all: what the tar
/// crate refuses to write, written into the header's name field by hand.
pub fn tar_with_raw_name(name: &str, contents: &[u8]) -> Vec<u8> {
    let mut header = tar::Header::new_old();
    header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    one_file_tar(header, contents)
}

/// A tar of one regular file whose header already has its name.
fn one_file_tar(mut header: tar::Header, contents: &[u8]) -> Vec<u8> {
    header.set_size(contents.len() as u64);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder
        .append(&header, contents)
        .expect("append to a tar in memory");
    builder.into_inner().expect("finish the tar")
}

/// `bytes` gzipped; the same bytes always give the same output (flate2
/// writes no name and a zero time).
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip in memory");
    encoder.finish().expect("finish gzip")
}
