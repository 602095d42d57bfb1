//! `pull NAME`: a manifest, its config, its layers.
//!
//! ```text
//! GET /v2/REPO/manifests/TAG   → an index?  pick this machine's entry,
//!                                            GET /v2/REPO/manifests/DIGEST
//! GET /v2/REPO/blobs/CONFIG    → the config: diff_ids, how to run
//! GET /v2/REPO/blobs/LAYER     ┐ three at a time; each streams through
//! GET /v2/REPO/blobs/LAYER     ┘ a hash, into the store and into the unpacker
//! ```
//!
//! Nothing is named until everything is in: the tag is written last, after
//! every blob matched its digest and every layer its diff_id. A blob that
//! fails its check is never renamed into the store, and a layer that fails
//! never leaves its temporary directory.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use cratebox_image::chain::chain_ids;
use cratebox_image::digest::Digest;
use cratebox_image::layers::{LayerError, UnpackedLayers};
use cratebox_image::reference::Reference;
use cratebox_image::store::{BlobWriter, LayerDigests, Store, StoreError};
use oci_spec::image::{ImageConfiguration, ImageManifest, MediaType};

use crate::blob::BlobReader;
use crate::client::Client;
use crate::error::RegistryError;
use crate::manifest::{self, Fetched, Kind};
use crate::name::ImageName;
use crate::platform::{pick, Platform};
use crate::progress::Progress;
use crate::settings::Settings;
use crate::sources::Sources;

/// How many layers download at once, as docker's default.
pub const PARALLEL_DOWNLOADS: usize = 3;

/// The largest config accepted (a config is a few kilobytes of JSON).
const MAX_CONFIG: u64 = 16 << 20;

/// `pull`'s options.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// `--platform`: the entry of an index to take; the host's when `None`.
    pub platform: Option<Platform>,
}

/// What a pull did.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The name it is stored under locally.
    pub local: Reference,
    /// The digest docker prints: of what the name pointed to (an index, or
    /// the manifest).
    pub digest: Digest,
    /// The image's own manifest.
    pub manifest: Digest,
    /// False when the store already had it.
    pub fresh: bool,
}

/// Where a pull puts things.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    /// Blobs and names.
    pub store: &'a Store,
    /// Unpacked layers.
    pub layers: &'a UnpackedLayers,
}

// ANCHOR: pull
/// Pull `name` into `to`, reporting to `progress` as docker does.
pub fn pull(
    to: Destination<'_>,
    settings: &Settings,
    name: &ImageName,
    options: &PullOptions,
    progress: &dyn Progress,
) -> Result<Pulled, RegistryError> {
    let client = Client::connect(&name.registry, name.endpoint(), settings)?;
    progress.message(&format!(
        "{}: Pulling from {}",
        name.reference(),
        name.repository
    ));
    let top = manifest::fetch(
        &client,
        &name.repository,
        name.reference(),
        &name.to_string(),
    )?;
    let image = match manifest::kind(&top.media_type) {
        Some(Kind::Image) => top.clone(),
        Some(Kind::Index) => for_platform(&client, name, &top, options)?,
        None => return Err(unsupported(name, &top.media_type)),
    };
    let local = name.local();
    let manifest: ImageManifest = parse(&client, "manifest", &image.bytes)?;
    let config_digest: Digest = manifest
        .config()
        .digest()
        .to_string()
        .parse()
        .map_err(StoreError::from)?;
    // What this pull adds is taken out again if it fails part way.
    let undo = Undo::new(to);
    let config = fetch_config(&client, &undo, &name.repository, &config_digest)?;
    check_platform(name, &config, options)?;
    if to
        .store
        .list()?
        .contains(&(local.clone(), image.digest.clone()))
    {
        progress.message(&format!("Digest: {}", top.digest));
        progress.message(&format!("Status: Image is up to date for {local}"));
        return Ok(Pulled {
            local,
            digest: top.digest,
            manifest: image.digest,
            fresh: false,
        });
    }
    let layers = layer_digests(&client, &manifest, &config)?;
    fetch_layers(&client, &undo, &name.repository, &layers, progress)?;
    // Everything is in: now the manifest, and the name last of all.
    if !to.store.has_blob(&image.digest) {
        to.store.put_blob(&image.bytes[..], Some(&image.digest))?;
        undo.made(Made::Blob(image.digest.clone()));
    }
    let media_type = MediaType::from(image.media_type.as_str());
    to.store
        .tag_as(&local, &image.digest, image.bytes.len() as u64, media_type)?;
    undo.keep();
    let sources = Sources::beside(to.store.root());
    for blob in layers.iter().map(|l| &l.blob).chain([&config_digest]) {
        sources.record(blob, &name.registry, &name.repository);
    }
    progress.message(&format!("Digest: {}", top.digest));
    progress.message(&format!("Status: Downloaded newer image for {local}"));
    Ok(Pulled {
        local,
        digest: top.digest,
        manifest: image.digest,
        fresh: true,
    })
}
// ANCHOR_END: pull

// ANCHOR: for_platform
/// The manifest an index names for the platform wanted (the host's unless
/// `--platform` says otherwise).
fn for_platform(
    client: &Client,
    name: &ImageName,
    index: &Fetched,
    options: &PullOptions,
) -> Result<Fetched, RegistryError> {
    let parsed: serde_json::Value = parse(client, "index", &index.bytes)?;
    let entries: Vec<&serde_json::Value> = parsed["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let platforms: Vec<Platform> = entries
        .iter()
        .map(|entry| {
            let platform = &entry["platform"];
            let text = |field: &str| platform[field].as_str().unwrap_or_default().to_string();
            Platform::new(
                &text("os"),
                &text("architecture"),
                platform["variant"].as_str(),
            )
        })
        .collect();
    let want = options.platform.clone().unwrap_or_else(Platform::host);
    let Some(chosen) = pick(&platforms, &want) else {
        return Err(RegistryError::NoPlatform {
            name: name.to_string(),
            platform: want,
            available: platforms
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let digest = entries[chosen]["digest"].as_str().unwrap_or_default();
    let manifest = manifest::fetch(client, &name.repository, digest, &name.to_string())?;
    match manifest::kind(&manifest.media_type) {
        Some(Kind::Image) => Ok(manifest),
        _ => Err(unsupported(name, &manifest.media_type)),
    }
}
// ANCHOR_END: for_platform

/// A single manifest that is for another machine than `--platform` asked.
fn check_platform(
    name: &ImageName,
    config: &ImageConfiguration,
    options: &PullOptions,
) -> Result<(), RegistryError> {
    let Some(want) = &options.platform else {
        return Ok(());
    };
    let has = Platform::new(
        &config.os().to_string(),
        &config.architecture().to_string(),
        config.variant().as_deref(),
    );
    if has.os == want.os && has.architecture == want.architecture {
        return Ok(());
    }
    Err(RegistryError::NoPlatform {
        name: name.to_string(),
        platform: want.clone(),
        available: has.to_string(),
    })
}

fn unsupported(name: &ImageName, media_type: &str) -> RegistryError {
    RegistryError::UnsupportedManifest {
        name: name.to_string(),
        media_type: media_type.to_string(),
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    client: &Client,
    what: &str,
    bytes: &[u8],
) -> Result<T, RegistryError> {
    serde_json::from_slice(bytes).map_err(|e| RegistryError::Protocol {
        registry: client.registry().to_string(),
        why: format!("the {what} is not valid JSON of its kind: {e}"),
    })
}

/// Something a pull added to the store or the layers.
#[derive(Debug)]
enum Made {
    Blob(Digest),
    Layer(Digest),
}

// ANCHOR: undo
/// What a pull added, removed again unless [`Undo::keep`] is called: a
/// pull that fails part way (a layer refused, the network gone) leaves
/// the store as it found it, not with half an image nobody names.
struct Undo<'a> {
    to: Destination<'a>,
    made: Mutex<Vec<Made>>,
    kept: AtomicBool,
}

impl<'a> Undo<'a> {
    fn new(to: Destination<'a>) -> Undo<'a> {
        Undo {
            to,
            made: Mutex::new(Vec::new()),
            kept: AtomicBool::new(false),
        }
    }

    fn made(&self, made: Made) {
        self.made
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(made);
    }

    fn keep(self) {
        self.kept.store(true, Ordering::Relaxed);
    }
}

// ANCHOR: undo_drop
impl Drop for Undo<'_> {
    fn drop(&mut self) {
        if self.kept.load(Ordering::Relaxed) {
            return;
        }
        for made in self
            .made
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            let _ = match made {
                Made::Blob(digest) => std::fs::remove_file(self.to.store.blob_path(&digest)),
                Made::Layer(chain_id) => std::fs::remove_dir_all(self.to.layers.dir(&chain_id)),
            };
        }
    }
}
// ANCHOR_END: undo_drop
// ANCHOR_END: undo

/// The config blob, from the store or the registry.
fn fetch_config(
    client: &Client,
    undo: &Undo<'_>,
    repository: &str,
    digest: &Digest,
) -> Result<ImageConfiguration, RegistryError> {
    let store = undo.to.store;
    if !store.has_blob(digest) {
        let reader = BlobReader::open(client, repository, digest.as_str(), Box::new(|_, _| {}))?;
        store
            .put_blob(reader.take(MAX_CONFIG), Some(digest))
            .map_err(|e| mismatch(client, "config", e))?;
        undo.made(Made::Blob(digest.clone()));
    }
    Ok(store.image_config(digest)?)
}

/// Each layer's blob and diff_id, base first.
fn layer_digests(
    client: &Client,
    manifest: &ImageManifest,
    config: &ImageConfiguration,
) -> Result<Vec<LayerDigests>, RegistryError> {
    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != manifest.layers().len() {
        return Err(RegistryError::Protocol {
            registry: client.registry().to_string(),
            why: format!(
                "the config lists {} diff_ids for the manifest's {} layers",
                diff_ids.len(),
                manifest.layers().len()
            ),
        });
    }
    manifest
        .layers()
        .iter()
        .zip(diff_ids)
        .map(|(layer, diff_id)| {
            Ok(LayerDigests {
                blob: layer
                    .digest()
                    .to_string()
                    .parse()
                    .map_err(StoreError::from)?,
                diff_id: diff_id.parse().map_err(StoreError::from)?,
            })
        })
        .collect()
}

/// One layer still to fetch.
#[derive(Debug)]
struct Job {
    layer: LayerDigests,
    chain_id: Digest,
    /// The short id the progress lines show.
    id: String,
}

// ANCHOR: fetch_layers
/// Every layer the store lacks, [`PARALLEL_DOWNLOADS`] at a time. The
/// first failure stops the others.
fn fetch_layers(
    client: &Client,
    undo: &Undo<'_>,
    repository: &str,
    layers: &[LayerDigests],
    progress: &dyn Progress,
) -> Result<(), RegistryError> {
    let to = undo.to;
    let diff_ids: Vec<Digest> = layers.iter().map(|l| l.diff_id.clone()).collect();
    let mut queue = VecDeque::new();
    for (layer, chain_id) in layers.iter().zip(chain_ids(&diff_ids)) {
        let id = layer.blob.hex()[..12].to_string();
        if to.store.has_blob(&layer.blob) && to.layers.dir(&chain_id).is_dir() {
            progress.done(&id, "Already exists");
        } else {
            progress.status(&id, "Pulling fs layer");
            queue.push_back(Job {
                layer: layer.clone(),
                chain_id,
                id,
            });
        }
    }
    let queue = Mutex::new(queue);
    let failed = AtomicBool::new(false);
    let first_error = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL_DOWNLOADS {
            scope.spawn(|| loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some(job) = next else { break };
                if failed.load(Ordering::Relaxed) {
                    break;
                }
                match fetch_layer(client, undo, repository, &job, &failed, progress) {
                    Ok(()) => progress.done(&job.id, "Pull complete"),
                    Err(error) => {
                        failed.store(true, Ordering::Relaxed);
                        first_error
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(error);
                    }
                }
            });
        }
    });
    match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}
// ANCHOR_END: fetch_layers

// ANCHOR: fetch_layer
/// One layer: downloaded once, the same bytes going to the store and
/// through the decompressor into the unpacker as they arrive. Both checks
/// (the blob's digest, the tar's diff_id) happen in `unpack_from`, before
/// the layer is renamed into place; the blob is committed after.
fn fetch_layer(
    client: &Client,
    undo: &Undo<'_>,
    repository: &str,
    job: &Job,
    failed: &AtomicBool,
    progress: &dyn Progress,
) -> Result<(), RegistryError> {
    let to = undo.to;
    let LayerDigests { blob, diff_id } = &job.layer;
    let unpacked = to.layers.dir(&job.chain_id).is_dir();
    if to.store.has_blob(blob) {
        // In the store, not unpacked (another image's layer on other parents).
        to.layers.unpack(to.store, blob, diff_id, &job.chain_id)?;
        undo.made(Made::Layer(job.chain_id.clone()));
        return Ok(());
    }
    // ANCHOR: fetch_layer_tee
    let on_progress = Box::new(|done, total| progress.bytes(&job.id, "Downloading", done, total));
    let download = BlobReader::open(client, repository, blob.as_str(), on_progress)?;
    let mut tee = Tee {
        from: Cancellable {
            inner: download,
            failed,
        },
        to: to.store.blob_writer()?,
    };
    if unpacked {
        io::copy(&mut tee, &mut io::sink()).map_err(|e| unreachable(client, blob, e))?;
    } else {
        let source = std::path::PathBuf::from(format!(
            "{}/v2/{repository}/blobs/{blob}",
            client.registry()
        ));
        to.layers
            .unpack_from(&mut tee, &source, blob, diff_id, &job.chain_id)
            .map_err(|e| match e {
                LayerError::Store(store) => mismatch(client, "layer", store),
                other => other.into(),
            })?;
    }
    tee.to
        .commit(Some(blob))
        .map_err(|e| mismatch(client, "layer", e))?;
    Ok(())
    // ANCHOR_END: fetch_layer_tee
}
// ANCHOR_END: fetch_layer

fn unreachable(client: &Client, blob: &Digest, error: io::Error) -> RegistryError {
    RegistryError::Unreachable {
        registry: client.registry().to_string(),
        url: blob.to_string(),
        why: error.to_string(),
    }
}

/// A digest mismatch in the registry's words; other store errors as they are.
fn mismatch(client: &Client, what: &'static str, error: StoreError) -> RegistryError {
    match error {
        StoreError::DigestMismatch { expected, actual } => RegistryError::DigestMismatch {
            what,
            registry: client.registry().to_string(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        },
        other => other.into(),
    }
}

/// Reads from `from`, writing a copy of every byte to `to`.
struct Tee<R> {
    from: R,
    to: BlobWriter,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.from.read(buf)?;
        self.to.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// Ends the read with an error once another download failed.
struct Cancellable<'a, R> {
    inner: R,
    failed: &'a AtomicBool,
}

impl<R: Read> Read for Cancellable<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed.load(Ordering::Relaxed) {
            return Err(io::Error::other("stopped: another layer failed"));
        }
        self.inner.read(buf)
    }
}
