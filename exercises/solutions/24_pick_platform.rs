//! Exercise 24, solved.

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

/// The variant a platform stands for: a missing one is its architecture's
/// default (`v8` for arm64, none elsewhere).
fn variant_or_default(platform: &Platform) -> Option<&str> {
    match (&platform.variant, platform.architecture.as_str()) {
        (Some(variant), _) => Some(variant),
        (None, "arm64") => Some("v8"),
        (None, _) => None,
    }
}

/// The entry for `want`.
pub fn pick(entries: &[Platform], want: &Platform) -> Option<usize> {
    let same_machine = |p: &Platform| p.os == want.os && p.architecture == want.architecture;
    let exact = entries
        .iter()
        .position(|p| same_machine(p) && variant_or_default(p) == variant_or_default(want));
    match (exact, &want.variant) {
        (Some(found), _) => Some(found),
        (None, Some(_)) => None,
        (None, None) => entries.iter().position(same_machine),
    }
}

/// The digest the index names for `want`.
pub fn manifest_for(index: &Value, want: &Platform) -> Result<String, NoMatch> {
    let entries: &[Value] = index["manifests"].as_array().map_or(&[], Vec::as_slice);
    let platforms: Vec<Platform> = entries
        .iter()
        .map(|entry| {
            let platform = &entry["platform"];
            Platform::new(
                platform["os"].as_str().unwrap_or_default(),
                platform["architecture"].as_str().unwrap_or_default(),
                platform["variant"].as_str(),
            )
        })
        .collect();
    match pick(&platforms, want) {
        Some(chosen) => Ok(entries[chosen]["digest"]
            .as_str()
            .unwrap_or_default()
            .to_string()),
        None => Err(NoMatch {
            wanted: want.clone(),
            available: platforms,
        }),
    }
}
