//! What can go wrong talking to a registry, each in one line that says
//! what to do.

use cratebox_image::layers::LayerError;
use cratebox_image::store::StoreError;
use thiserror::Error;

use crate::challenge::BadChallenge;
use crate::name::BadName;
use crate::platform::Platform;
use crate::settings::SettingsError;

/// Why a pull, a push or a login failed.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// A name that is not one.
    #[error(transparent)]
    Name(#[from] BadName),
    /// The settings files.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The registry could not be set up to talk to (a bad CA file).
    #[error("registry {registry}: {why}")]
    Setup {
        /// The registry.
        registry: String,
        /// What is wrong.
        why: String,
    },
    /// The connection failed, every time it was tried.
    #[error("cannot reach registry {registry} ({url}): {why}")]
    Unreachable {
        /// The registry.
        registry: String,
        /// What was asked for.
        url: String,
        /// The network's error.
        why: String,
    },
    /// 401 or 403: wrong or missing credentials.
    #[error("unauthorized: {message} (registry {registry}: `login {registry}` with the right user name and password)")]
    Unauthorized {
        /// The registry.
        registry: String,
        /// The registry's words.
        message: String,
    },
    /// The registry answered with an error of its own.
    #[error("{message} (registry {registry} answered {status} {code})")]
    Api {
        /// The registry.
        registry: String,
        /// The HTTP status.
        status: u16,
        /// The distribution spec's error code, e.g. `MANIFEST_UNKNOWN`.
        code: String,
        /// Its message, lowercase as docker prints it.
        message: String,
    },
    /// No manifest under that name.
    #[error("manifest for {name} not found: manifest unknown: manifest unknown")]
    ManifestUnknown {
        /// The full name asked for.
        name: String,
    },
    /// The registry broke the protocol.
    #[error("registry {registry}: {why}")]
    Protocol {
        /// The registry.
        registry: String,
        /// What it did.
        why: String,
    },
    /// A WWW-Authenticate header that cannot be acted on.
    #[error(transparent)]
    Challenge(#[from] BadChallenge),
    /// A manifest too big to be one.
    #[error(
        "the manifest of {name} is over {limit} bytes: refused (a manifest is a few kilobytes)"
    )]
    ManifestTooBig {
        /// The name.
        name: String,
        /// The limit.
        limit: u64,
    },
    /// Content that does not hash to the digest it came under.
    #[error("{what} {expected} from {registry} does not match its digest (it hashes to {actual}): refused, nothing stored")]
    DigestMismatch {
        /// Manifest, config or layer.
        what: &'static str,
        /// The registry.
        registry: String,
        /// The digest asked for.
        expected: String,
        /// What arrived hashes to this.
        actual: String,
    },
    /// An index with no entry for the platform asked for.
    #[error("no matching manifest for {platform} in {name} (it has: {available}; --platform picks one of those)")]
    NoPlatform {
        /// The name.
        name: String,
        /// What was wanted.
        platform: Platform,
        /// What there is.
        available: String,
    },
    /// A manifest of a kind this client does not read.
    #[error("{name}: manifest type {media_type:?} is not supported (OCI and docker schema 2 are)")]
    UnsupportedManifest {
        /// The name.
        name: String,
        /// Its media type.
        media_type: String,
    },
    /// The local store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Unpacking a layer.
    #[error(transparent)]
    Layer(#[from] LayerError),
}
