//! The image being built, between two steps.
//!
//! A build is a chain of images: each step starts from the one before and
//! makes a new one. Every image in the chain is written to the store as it
//! is made (its config and manifest, and its new layer if it has one), but
//! only the last gets a name. The unnamed ones are what the cache points
//! at: their manifest digests are the "parent" half of each cache key.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

use cratebox_image::build::{now, push, write_image, LayerFile, LAYER_TAR, LAYER_TAR_GZIP};
use cratebox_image::digest::Digest;
use cratebox_image::layers::LayerCache;
use cratebox_image::store::{Image, Store, StoreError};

/// One layer of an image: its blob and what it unpacks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub blob: Digest,
    pub diff_id: Digest,
    pub size: u64,
    pub media_type: String,
}

impl From<&LayerFile> for Layer {
    fn from(file: &LayerFile) -> Layer {
        Layer {
            blob: file.blob.clone(),
            diff_id: file.diff_id.clone(),
            size: file.size,
            media_type: if file.gzip { LAYER_TAR_GZIP } else { LAYER_TAR }.to_string(),
        }
    }
}

/// An image in the making: its layers and its config (as JSON, so fields
/// this crate does not know survive from the base image).
#[derive(Debug, Clone)]
pub struct State {
    /// The manifest written for it; `None` only for `FROM scratch`.
    pub manifest: Option<Digest>,
    /// Its config's digest: the image ID that `docker build` prints.
    pub config_digest: Option<Digest>,
    pub layers: Vec<Layer>,
    pub config: Value,
}

impl State {
    /// `FROM scratch`: no layers, an empty config.
    pub fn scratch() -> State {
        State {
            manifest: None,
            config_digest: None,
            layers: Vec::new(),
            config: json!({
                "architecture": architecture(),
                "os": "linux",
                "config": {},
                "rootfs": { "type": "layers", "diff_ids": [] },
                "history": [],
            }),
        }
    }

    /// The state of an image read from the store.
    pub fn of(image: &Image) -> Result<State, StoreError> {
        let layers = image
            .manifest
            .layers()
            .iter()
            .zip(image.layers()?)
            .map(|(descriptor, (blob, diff_id))| Layer {
                blob,
                diff_id,
                size: descriptor.size(),
                media_type: descriptor.media_type().to_string(),
            })
            .collect();
        let config = serde_json::to_value(&image.config).map_err(|e| StoreError::BadJson {
            what: "config",
            digest: image.id(),
            why: e.to_string(),
        })?;
        Ok(State {
            manifest: Some(image.manifest_digest.clone()),
            config_digest: image.id().parse().ok(),
            layers,
            config,
        })
    }

    /// What the cache knows this image by: its manifest, or "scratch".
    pub fn parent_key(&self) -> Digest {
        self.manifest
            .clone()
            .unwrap_or_else(|| Digest::of(b"scratch"))
    }

    /// The short image ID to print after each step.
    pub fn short_id(&self) -> String {
        match &self.config_digest {
            Some(digest) => digest.short().to_string(),
            None => "scratch".to_string(),
        }
    }

    /// The runtime part of the config (`Env`, `Cmd`, ...), created if missing.
    pub fn runtime(&mut self) -> &mut Map<String, Value> {
        let root = object(&mut self.config);
        object(root.entry("config").or_insert_with(|| json!({})))
    }

    /// A runtime field, if set.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.config
            .get("config")?
            .get(field)
            .filter(|v| !v.is_null())
    }

    /// The image's Env as (name, value) pairs.
    pub fn env(&self) -> Vec<(String, String)> {
        self.get("Env")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Set one variable in Env, replacing an earlier value in place.
    pub fn set_env(&mut self, name: &str, value: &str) {
        let mut env = self.env();
        match env.iter_mut().find(|(k, _)| k == name) {
            Some(entry) => entry.1 = value.to_string(),
            None => env.push((name.to_string(), value.to_string())),
        }
        let list: Vec<Value> = env.iter().map(|(k, v)| json!(format!("{k}={v}"))).collect();
        self.runtime().insert("Env".into(), Value::Array(list));
    }

    /// Add a key to one of the config's set-like objects (`ExposedPorts`,
    /// `Volumes`), or a key=value to `Labels`.
    pub fn insert(&mut self, field: &str, key: &str, value: Value) {
        let map = self.runtime().entry(field).or_insert_with(|| json!({}));
        if !map.is_object() {
            *map = json!({});
        }
        object(map).insert(key.to_string(), value);
    }

    // ANCHOR: commit
    /// Make the next image of the chain: add `layer` (if the step made
    /// one) and a history line, write config and manifest to the store.
    pub fn commit(
        &mut self,
        store: &Store,
        layer: Option<Layer>,
        created_by: &str,
    ) -> Result<(), StoreError> {
        let created = now();
        let empty_layer = layer.is_none();
        if let Some(layer) = layer {
            push(
                &mut self.config["rootfs"]["diff_ids"],
                json!(layer.diff_id.as_str()),
            );
            self.layers.push(layer);
        }
        let mut entry = json!({ "created": created, "created_by": created_by });
        if empty_layer {
            entry["empty_layer"] = json!(true);
        }
        push(&mut self.config["history"], entry);
        self.config["created"] = json!(created);
        self.write(store)
    }
    // ANCHOR_END: commit

    /// Write the config and manifest as they are now.
    fn write(&mut self, store: &Store) -> Result<(), StoreError> {
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(
                |l| json!({ "mediaType": l.media_type, "digest": l.blob.as_str(), "size": l.size }),
            )
            .collect();
        let written = write_image(store, &self.config, layers)?;
        self.manifest = Some(written.manifest);
        self.config_digest = Some(written.config);
        Ok(())
    }

    /// The directories of the layers, unpacked (once) in the layer cache,
    /// base first; what a RUN's overlay and a COPY's lookups read.
    pub fn unpacked(
        &self,
        store: &Store,
        cache: &LayerCache,
    ) -> Result<Vec<PathBuf>, cratebox_image::layers::LayerError> {
        let layers: Vec<(Digest, Digest)> = self
            .layers
            .iter()
            .map(|l| (l.blob.clone(), l.diff_id.clone()))
            .collect();
        cache.ensure_layers(store, &layers)
    }

    /// The blobs this image needs; all must be in the store for a cache hit.
    pub fn blobs(&self) -> BTreeSet<Digest> {
        let mut blobs: BTreeSet<Digest> = self.layers.iter().map(|l| l.blob.clone()).collect();
        blobs.extend(self.manifest.clone());
        blobs.extend(self.config_digest.clone());
        blobs
    }
}

/// The OCI name of this machine's architecture.
fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

/// `value` as an object, replacing anything else with `{}`.
fn object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = json!({});
    }
    match value {
        Value::Object(map) => map,
        _ => unreachable!("just made an object"),
    }
}
