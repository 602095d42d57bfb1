//! `push NAME[:TAG]`: every blob the registry lacks, then the manifest.
//!
//! ```text
//! HEAD /v2/REPO/blobs/D                     200: already there, next
//! POST /v2/REPO/blobs/uploads/?mount=D&from=OTHER
//!                                           201: mounted from a repository
//!                                                that has it, nothing sent
//! POST /v2/REPO/blobs/uploads/              202 Location: an upload session
//! PUT  LOCATION?digest=D  (the whole blob)      small blobs, in one request
//! PATCH LOCATION (a chunk) … PUT ?digest=D      big ones, chunk by chunk
//! PUT  /v2/REPO/manifests/TAG               last: a manifest may only name
//!                                           blobs the registry has
//! ```

use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::sync::Mutex;

use cratebox_image::digest::Digest;
use cratebox_image::reference::Reference;
use cratebox_image::store::{Store, StoreError};
use ureq::http::{Method, StatusCode};

use crate::client::{header, Client, Request};
use crate::error::RegistryError;
use crate::manifest::OCI_MANIFEST;
use crate::name::ImageName;
use crate::progress::Progress;
use crate::settings::Settings;
use crate::sources::Sources;

/// Blobs up to this size go in one PUT; bigger ones in PATCHes of this
/// size.
pub const CHUNK: usize = 16 << 20;

/// `push`'s options.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// The chunk size for uploads (see [`CHUNK`]).
    pub chunk: usize,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions { chunk: CHUNK }
    }
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The manifest's digest, as the registry now serves it.
    pub digest: Digest,
    /// The manifest's size in bytes.
    pub size: usize,
}

/// How many blobs go up at once.
pub const PARALLEL_UPLOADS: usize = 3;

/// How a blob got to the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// It was there already.
    Exists,
    /// Mounted from another repository of the same registry.
    Mounted(String),
    /// Uploaded.
    Uploaded,
}

/// What docker prints for each.
impl std::fmt::Display for Sent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sent::Exists => f.write_str("Layer already exists"),
            Sent::Mounted(from) => write!(f, "Mounted from {from}"),
            Sent::Uploaded => f.write_str("Pushed"),
        }
    }
}

// ANCHOR: push
/// Push the local image `local` as `target`.
pub fn push(
    store: &Store,
    settings: &Settings,
    local: &Reference,
    target: &ImageName,
    options: &PushOptions,
    progress: &dyn Progress,
) -> Result<Pushed, RegistryError> {
    let image = store.resolve(local)?;
    let client = Client::connect(&target.registry, target.endpoint(), settings)?;
    let sources = Sources::beside(store.root());
    progress.message(&format!(
        "The push refers to repository [{}/{}]",
        target.registry, target.repository
    ));
    let mut blobs = Vec::new();
    for layer in image.layers()?.iter().rev() {
        progress.status(&layer.blob.hex()[..12], "Preparing");
        blobs.push((layer.blob.clone(), true));
    }
    blobs.push((image.id().parse().map_err(StoreError::from)?, false));
    // Three blobs at a time; the first failure stops the others.
    let queue = Mutex::new(blobs.iter().collect::<VecDeque<_>>());
    let first_error = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL_UPLOADS {
            scope.spawn(|| loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some((blob, shown)) = next else { break };
                if first_error.lock().map(|e| e.is_some()).unwrap_or(true) {
                    break;
                }
                let id = &blob.hex()[..12];
                let show_bytes = |done, total| {
                    if *shown {
                        progress.bytes(id, "Pushing", done, Some(total));
                    }
                };
                match send_blob(&client, store, &sources, target, blob, options, &show_bytes) {
                    Ok(sent) => {
                        sources.record(blob, &target.registry, &target.repository);
                        if *shown {
                            progress.done(id, &sent.to_string());
                        }
                    }
                    Err(error) => {
                        first_error
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(error);
                    }
                }
            });
        }
    });
    if let Some(error) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(error);
    }
    let bytes = store.read_blob(&image.manifest_digest)?;
    let media_type = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["mediaType"].as_str().map(str::to_string))
        .unwrap_or_else(|| OCI_MANIFEST.to_string());
    let tag = target.tag.as_deref().unwrap_or("latest");
    let scope = push_scope(target);
    let request = Request::new(
        Method::PUT,
        format!("/v2/{}/manifests/{tag}", target.repository),
        &scope,
    )
    .header("content-type", media_type)
    .body(&bytes);
    let response = client.send(request)?;
    if response.status() != StatusCode::CREATED {
        return Err(client.refused(response));
    }
    let digest = Digest::of(&bytes);
    progress.message(&format!("{tag}: digest: {digest} size: {}", bytes.len()));
    Ok(Pushed {
        digest,
        size: bytes.len(),
    })
}
// ANCHOR_END: push

fn push_scope(target: &ImageName) -> String {
    format!("repository:{}:pull,push", target.repository)
}

// ANCHOR: send_blob
/// Get one blob to the registry by the cheapest way it allows.
fn send_blob(
    client: &Client,
    store: &Store,
    sources: &Sources,
    target: &ImageName,
    blob: &Digest,
    options: &PushOptions,
    on_progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Sent, RegistryError> {
    // ANCHOR: send_blob_cheap
    let repository = &target.repository;
    let scope = push_scope(target);
    let head = client.send(Request::new(
        Method::HEAD,
        format!("/v2/{repository}/blobs/{blob}"),
        &scope,
    ))?;
    if head.status() == StatusCode::OK {
        return Ok(Sent::Exists);
    }
    let mut location = None;
    for from in sources
        .find(blob, &target.registry)
        .into_iter()
        .filter(|r| r != repository)
    {
        // The token must allow pulling from where the blob is mounted from.
        let scope = format!("repository:{from}:pull {scope}");
        let url = format!("/v2/{repository}/blobs/uploads/?mount={blob}&from={from}");
        let response = client.send(Request::new(Method::POST, url, &scope))?;
        match response.status() {
            StatusCode::CREATED => return Ok(Sent::Mounted(from)),
            // Not mounted, but an upload session was opened instead.
            StatusCode::ACCEPTED => {
                location = header(&response, "location");
                break;
            }
            _ => {}
        }
    }
    // ANCHOR_END: send_blob_cheap
    let location = match location {
        Some(location) => location,
        None => start_upload(client, repository, &scope)?,
    };
    upload(
        client,
        store,
        blob,
        location,
        &scope,
        options.chunk,
        on_progress,
    )?;
    Ok(Sent::Uploaded)
}
// ANCHOR_END: send_blob

/// `POST /v2/REPO/blobs/uploads/`: a new upload session's URL.
fn start_upload(client: &Client, repository: &str, scope: &str) -> Result<String, RegistryError> {
    let response = client.send(Request::new(
        Method::POST,
        format!("/v2/{repository}/blobs/uploads/"),
        scope,
    ))?;
    if response.status() != StatusCode::ACCEPTED {
        return Err(client.refused(response));
    }
    header(&response, "location").ok_or_else(|| RegistryError::Protocol {
        registry: client.registry().to_string(),
        why: "an upload was started without a Location to send it to".into(),
    })
}

// ANCHOR: upload
/// Send the blob's bytes: one PUT when it fits in a chunk, else PATCHes
/// with `Content-Range`, each answered with where the next one goes, and a
/// closing PUT naming the digest, which the registry checks.
fn upload(
    client: &Client,
    store: &Store,
    blob: &Digest,
    mut location: String,
    scope: &str,
    chunk: usize,
    on_progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<(), RegistryError> {
    let path = store.blob_path(blob);
    let io = |e: std::io::Error| StoreError::Io {
        what: "cannot read",
        path: path.clone(),
        source: e,
    };
    let mut file = File::open(&path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let mut buffer = vec![0u8; chunk.max(1)];
    let mut sent = 0u64;
    let mut last = Vec::new();
    loop {
        let n = read_full(&mut file, &mut buffer).map_err(io)?;
        let piece = &buffer[..n];
        if sent + n as u64 == size {
            // The last piece (or the only one) goes with the PUT.
            last.extend_from_slice(piece);
            break;
        }
        let request = Request::new(Method::PATCH, location.clone(), scope)
            .header("content-type", "application/octet-stream")
            .header("content-range", format!("{}-{}", sent, sent + n as u64 - 1))
            .body(piece);
        let response = client.send(request)?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(client.refused(response));
        }
        location = header(&response, "location").unwrap_or(location);
        sent += n as u64;
        on_progress(sent, size);
    }
    let separator = if location.contains('?') { '&' } else { '?' };
    let request = Request::new(
        Method::PUT,
        format!("{location}{separator}digest={blob}"),
        scope,
    )
    .header("content-type", "application/octet-stream")
    .body(&last);
    let response = client.send(request)?;
    if response.status() != StatusCode::CREATED {
        return Err(client.refused(response));
    }
    on_progress(size, size);
    Ok(())
}
// ANCHOR_END: upload

/// Fill `buffer` as far as the file goes.
fn read_full(file: &mut File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}
