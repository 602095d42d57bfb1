//! # Exercise 24: the manifest of an index for one platform
//!
//! ```text
//! docker pull alpine           (on an arm64 machine)
//!   GET /v2/library/alpine/manifests/latest   → an index:
//!     linux/amd64      sha256:1111…
//!     linux/arm/v7     sha256:2222…
//!     linux/arm64/v8   sha256:3333…   ← this one
//!   GET /v2/library/alpine/manifests/sha256:3333…
//! ```
//!
//! Write [`pick`] and [`manifest_for`]. [`Platform`], its parsing and its
//! `Display` are written. Run `cargo ex check 24_pick_platform` until it
//! passes.

// The parameters are unused until the `todo!()`s are replaced.
#![allow(unused_variables)]

use std::fmt;
use std::str::FromStr;

use serde_json::Value;
use thiserror::Error;

/// An OS, a CPU architecture and, mostly for ARM, a variant, named as the
/// OCI image spec names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`, `windows`.
    pub os: String,
    /// `amd64`, `arm64`, `arm`, `386`, `s390x`, ...
    pub architecture: String,
    /// `v6` or `v7` for arm, `v8` for arm64; usually none elsewhere.
    pub variant: Option<String>,
}

impl Platform {
    /// A platform, in lowercase, with two names other tools use mapped to
    /// OCI's: `x86_64` is `amd64`, `aarch64` is `arm64`.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        let architecture = match architecture.to_ascii_lowercase().as_str() {
            "x86_64" | "x86-64" => "amd64".to_string(),
            "aarch64" => "arm64".to_string(),
            other => other.to_string(),
        };
        Platform {
            os: os.to_ascii_lowercase(),
            architecture,
            variant: variant.map(str::to_ascii_lowercase),
        }
    }
}

/// A `--platform` value that is not `OS/ARCH` or `OS/ARCH/VARIANT`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid platform {0:?}: write OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8")]
pub struct BadPlatform(pub String);

/// `linux/amd64`, `linux/arm/v7`, as `--platform` takes them.
impl FromStr for Platform {
    type Err = BadPlatform;

    fn from_str(text: &str) -> Result<Platform, BadPlatform> {
        let word =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        match text.split('/').collect::<Vec<_>>()[..] {
            [os, arch] if word(os) && word(arch) => Ok(Platform::new(os, arch, None)),
            [os, arch, variant] if word(os) && word(arch) && word(variant) => {
                Ok(Platform::new(os, arch, Some(variant)))
            }
            _ => Err(BadPlatform(text.to_string())),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// An index with no entry for the platform wanted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("no matching manifest for {wanted} in the index (it has: {})", names(.available))]
pub struct NoMatch {
    /// The platform asked for.
    pub wanted: Platform,
    /// The platform of each entry of the index, in its order.
    pub available: Vec<Platform>,
}

fn names(platforms: &[Platform]) -> String {
    let names: Vec<String> = platforms.iter().map(Platform::to_string).collect();
    names.join(", ")
}

/// The position in `entries` of the one for `want`, or `None`.
///
/// - The OS and the architecture must be equal.
/// - A missing variant stands for its architecture's default variant, if
///   it has one: `v8` for `arm64`, none for the others. So `linux/arm64`
///   and `linux/arm64/v8` are the same platform, on either side.
/// - The first entry whose variant (defaulted) equals the one wanted
///   (defaulted) is the answer.
/// - When there is none and `want` names a variant, nothing will do. When
///   `want` names none, the first entry of the same OS and architecture
///   is taken, whatever its variant.
pub fn pick(entries: &[Platform], want: &Platform) -> Option<usize> {
    // TODO: a helper for a platform's variant with the default filled in:
    //       match (&p.variant, p.architecture.as_str()) { ... }.
    // TODO: `position` of the first exact match; then match on it and
    //       `want.variant` to decide between it, None, and the first entry
    //       of the same OS and architecture.
    todo!("the entry for this platform")
}

/// The digest of the manifest `index` (an image index, as JSON) names for
/// `want`.
///
/// ```json
/// {"manifests": [{"digest": "sha256:…", "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}}, ...]}
/// ```
///
/// Each entry of `manifests` (none when it is missing) is read into a
/// [`Platform`] with [`Platform::new`], a missing `os` or `architecture`
/// being empty. Without an entry for `want` ([`pick`] decides), the error
/// lists every entry's platform, in order.
pub fn manifest_for(index: &Value, want: &Platform) -> Result<String, NoMatch> {
    // TODO: `index["manifests"].as_array()` is None when there is no list;
    //       `entry["platform"]["os"].as_str()` is None when there is no os.
    // TODO: pick, then take that entry's "digest" as a String.
    todo!("the digest for this platform")
}
