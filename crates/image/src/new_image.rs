//! An image being made: a config and a list of layers, written to the
//! store as one more image each time a layer or a setting is added.
//!
//! `import`, `commit` and every step of a Dockerfile build do the same
//! thing: take a base (or nothing), add a layer and a history line, or
//! change a setting, and store the result. This is the one place that
//! does it.
//!
//! The config is kept as JSON rather than as `oci_spec`'s typed struct, so
//! fields this crate does not know (docker's `OnBuild`, say) pass through
//! from the base unchanged; [`NewImage::write`] still checks the result
//! against the spec's types before anything is stored.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::build::{now, push, write_image, LayerFile, Written, LAYER_TAR, LAYER_TAR_GZIP};
use crate::digest::Digest;
use crate::platform::{architecture, OS};
use crate::store::{Image, LayerDigests, Store, StoreError};

/// One layer of an image: what its manifest says of it (blob, size, media
/// type) and what its config says (diff_id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The blob and the diff_id.
    pub digests: LayerDigests,
    /// The blob's size in bytes.
    pub size: u64,
    /// Plain or gzipped tar.
    pub media_type: String,
}

impl From<&LayerFile> for Layer {
    fn from(file: &LayerFile) -> Layer {
        Layer {
            digests: LayerDigests {
                blob: file.blob.clone(),
                diff_id: file.diff_id.clone(),
            },
            size: file.size,
            media_type: if file.gzip { LAYER_TAR_GZIP } else { LAYER_TAR }.to_string(),
        }
    }
}

/// Docker's default PATH, which an image that sets none runs with.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// An image in the making, and the digests it was last written under.
#[derive(Debug, Clone)]
pub struct NewImage {
    /// The config as JSON.
    pub config: Value,
    /// The layers, base first.
    pub layers: Vec<Layer>,
    /// Annotations for the manifest: facts about this one image, which,
    /// unlike the config's labels, an image built on it does not inherit.
    /// Empty when read from the store.
    pub annotations: BTreeMap<String, String>,
    /// What [`NewImage::write`] stored last; `None` until then.
    pub written: Option<Written>,
}

impl NewImage {
    /// No layers and an empty runtime config: `FROM scratch`.
    pub fn scratch() -> NewImage {
        NewImage {
            config: json!({
                "architecture": architecture(),
                "os": OS,
                "config": {},
                "rootfs": { "type": "layers", "diff_ids": [] },
                "history": [],
            }),
            layers: Vec::new(),
            annotations: BTreeMap::new(),
            written: None,
        }
    }

    /// A root file system on its own (`import`, the demo image): no base,
    /// and a config that runs `/bin/sh` with docker's default PATH.
    pub fn root_filesystem() -> NewImage {
        let mut image = NewImage::scratch();
        image.config["config"] = json!({
            "Env": [format!("PATH={DEFAULT_PATH}")],
            "Cmd": ["/bin/sh"],
        });
        image
    }

    /// An image from the store, to build on. Its config is read as the
    /// stored JSON, so nothing in it is lost.
    pub fn of(store: &Store, image: &Image) -> Result<NewImage, StoreError> {
        let config_digest: Digest = image.id().parse()?;
        let bytes = store.read_blob(&config_digest)?;
        let config: Value = serde_json::from_slice(&bytes).map_err(|e| StoreError::BadJson {
            what: "config",
            digest: config_digest.to_string(),
            why: e.to_string(),
        })?;
        let layers = image
            .manifest
            .layers()
            .iter()
            .zip(image.layers()?)
            .map(|(descriptor, digests)| Layer {
                digests,
                size: descriptor.size(),
                media_type: descriptor.media_type().to_string(),
            })
            .collect();
        let manifest_size = store.read_blob(&image.manifest_digest)?.len() as u64;
        Ok(NewImage {
            config,
            layers,
            annotations: BTreeMap::new(),
            written: Some(Written {
                manifest: image.manifest_digest.clone(),
                manifest_size,
                config: config_digest,
            }),
        })
    }

    // ANCHOR: add_layer
    /// The next image: `layer` on top (if there is one) and a history line
    /// saying `created_by`. Not stored until [`NewImage::write`].
    pub fn add_layer(&mut self, layer: Option<Layer>, created_by: &str) {
        let created = now();
        let mut entry = json!({ "created": created, "created_by": created_by });
        match layer {
            Some(layer) => {
                push(
                    &mut self.config["rootfs"]["diff_ids"],
                    json!(layer.digests.diff_id.as_str()),
                );
                self.layers.push(layer);
            }
            // docker marks steps that changed only the config, so tools
            // can match history lines to layers.
            None => entry["empty_layer"] = json!(true),
        }
        push(&mut self.config["history"], entry);
        self.config["created"] = json!(created);
    }
    // ANCHOR_END: add_layer

    /// Store the config and manifest as they are now.
    pub fn write(&mut self, store: &Store) -> Result<&Written, StoreError> {
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| {
                json!({
                    "mediaType": l.media_type,
                    "digest": l.digests.blob.as_str(),
                    "size": l.size,
                })
            })
            .collect();
        Ok(self
            .written
            .insert(write_image(store, &self.config, layers, &self.annotations)?))
    }

    /// The layers' digests, base first.
    pub fn layer_digests(&self) -> Vec<LayerDigests> {
        self.layers.iter().map(|l| l.digests.clone()).collect()
    }

    /// Every blob the image needs: layers, and the config and manifest
    /// once written.
    pub fn blobs(&self) -> Vec<Digest> {
        let mut blobs: Vec<Digest> = self.layers.iter().map(|l| l.digests.blob.clone()).collect();
        if let Some(written) = &self.written {
            blobs.push(written.config.clone());
            blobs.push(written.manifest.clone());
        }
        blobs
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

    /// A runtime field that holds a string (`WorkingDir`, `User`).
    pub fn get_str(&self, field: &str) -> Option<&str> {
        self.get(field).and_then(Value::as_str)
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
        object(map).insert(key.to_string(), value);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(n: u8) -> Layer {
        Layer {
            digests: LayerDigests {
                blob: Digest::of(&[n]),
                diff_id: Digest::of(&[n, n]),
            },
            size: 10,
            media_type: LAYER_TAR.into(),
        }
    }

    #[test]
    fn a_layer_adds_a_diff_id_and_a_history_line_a_setting_only_a_line() {
        let mut image = NewImage::root_filesystem();
        image.add_layer(Some(layer(1)), "import rootfs.tar");
        image.set_env("A", "1");
        image.add_layer(None, "ENV A=1");
        assert_eq!(image.layers.len(), 1);
        assert_eq!(
            image.config["rootfs"]["diff_ids"],
            json!([Digest::of(&[1, 1]).as_str()])
        );
        let history: Vec<(String, bool)> = image.config["history"]
            .as_array()
            .expect("history is a list")
            .iter()
            .map(|h| {
                (
                    h["created_by"].as_str().unwrap_or_default().to_string(),
                    h.get("empty_layer").is_some(),
                )
            })
            .collect();
        assert_eq!(
            history,
            [
                ("import rootfs.tar".to_string(), false),
                ("ENV A=1".to_string(), true)
            ]
        );
        assert_eq!(image.env()[0].0, "PATH");
        assert_eq!(image.env()[1], ("A".to_string(), "1".to_string()));
    }

    #[test]
    fn scratch_is_for_this_machine() {
        let image = NewImage::scratch();
        assert_eq!(image.config["architecture"], json!(architecture()));
        assert_eq!(image.config["os"], json!("linux"));
        assert!(image.layers.is_empty() && image.written.is_none());
    }
}
