//! Manifests on the wire: which kinds there are, and fetching one safely.
//!
//! A registry may hold four kinds under one tag, two from OCI and two
//! from docker, in pairs: an *index* (docker: *manifest list*) that names
//! one manifest per platform, and an image *manifest* that names a config
//! and layers. The client says which it reads in `Accept`; the registry
//! answers with one of them and says which in `Content-Type`.

use cratebox_image::digest::Digest;
use ureq::http::{Method, StatusCode};

use crate::client::{header, Client, Request};
use crate::error::RegistryError;

/// An OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// An OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker's manifest list (an index).
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker's schema 2 manifest.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Everything this client reads, most wanted first.
pub const ACCEPT: [&str; 4] = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];

/// The largest manifest accepted: 4 MiB, as the distribution spec lets
/// registries refuse larger ones (and containerd refuses them too).
pub const MAX_MANIFEST: u64 = 4 << 20;

/// The kinds, by what they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One manifest per platform.
    Index,
    /// A config and layers.
    Image,
}

/// What a media type is, or `None` for one this client does not read.
pub fn kind(media_type: &str) -> Option<Kind> {
    match media_type {
        OCI_INDEX | DOCKER_LIST => Some(Kind::Index),
        OCI_MANIFEST | DOCKER_MANIFEST => Some(Kind::Image),
        _ => None,
    }
}

/// A manifest as it came: its bytes are what its digest is of.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Exactly as received.
    pub bytes: Vec<u8>,
    /// The `Content-Type` (or the document's own `mediaType`).
    pub media_type: String,
    /// The sha256 of `bytes`.
    pub digest: Digest,
}

// ANCHOR: fetch
/// `GET /v2/REPO/manifests/REFERENCE`, at most [`MAX_MANIFEST`] bytes,
/// checked against the digest when `reference` is one and against
/// `Docker-Content-Digest` when the registry sends it.
pub fn fetch(
    client: &Client,
    repository: &str,
    reference: &str,
    full_name: &str,
) -> Result<Fetched, RegistryError> {
    let scope = format!("repository:{repository}:pull");
    let request = Request::new(
        Method::GET,
        format!("/v2/{repository}/manifests/{reference}"),
        &scope,
    )
    .header("accept", ACCEPT.join(", "));
    let mut response = client.send(request)?;
    match response.status() {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => {
            return Err(RegistryError::ManifestUnknown {
                name: full_name.to_string(),
            })
        }
        _ => return Err(client.refused(response)),
    }
    let too_big = || RegistryError::ManifestTooBig {
        name: full_name.to_string(),
        limit: MAX_MANIFEST,
    };
    let announced: Option<u64> = header(&response, "content-length").and_then(|l| l.parse().ok());
    if announced.is_some_and(|length| length > MAX_MANIFEST) {
        return Err(too_big());
    }
    // ANCHOR: fetch_check
    let content_type = header(&response, "content-type");
    let registry_digest = header(&response, "docker-content-digest");
    let bytes = response
        .body_mut()
        .with_config()
        .limit(MAX_MANIFEST + 1)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => too_big(),
            other => RegistryError::Unreachable {
                registry: client.registry().to_string(),
                url: format!("/v2/{repository}/manifests/{reference}"),
                why: other.to_string(),
            },
        })?;
    if bytes.len() as u64 > MAX_MANIFEST {
        return Err(too_big());
    }
    let digest = Digest::of(&bytes);
    let expected = reference
        .starts_with("sha256:")
        .then_some(reference)
        .or(registry_digest.as_deref());
    if let Some(expected) = expected.filter(|e| e.starts_with("sha256:") && *e != digest.as_str()) {
        return Err(RegistryError::DigestMismatch {
            what: "manifest",
            registry: client.registry().to_string(),
            expected: expected.to_string(),
            actual: digest.to_string(),
        });
    }
    // ANCHOR_END: fetch_check
    // The body's own mediaType wins over a generic Content-Type.
    let declared = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["mediaType"].as_str().map(str::to_string));
    let media_type = declared
        .or(content_type.map(|c| c.split(';').next().unwrap_or_default().trim().to_string()))
        .unwrap_or_default();
    Ok(Fetched {
        bytes,
        media_type,
        digest,
    })
}
// ANCHOR_END: fetch
