//! Which manifest of an index is for this machine.
//!
//! One name such as `alpine:3.20` serves many machines: the registry
//! answers with an *index* (a "manifest list" in docker's words) whose
//! entries each name a platform and the manifest for it. The client picks
//! the entry for its own OS and CPU, or the one `--platform` asks for.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// An OS, a CPU architecture and, for ARM, a variant, in OCI's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// `amd64`, `arm64`, `arm`, `s390x`, ...
    pub architecture: String,
    /// `v8` for arm64, `v6`/`v7` for arm; usually absent elsewhere.
    pub variant: Option<String>,
}

/// A `--platform` value that is not `OS/ARCH[/VARIANT]`.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid platform {0:?}: write OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8")]
pub struct BadPlatform(pub String);

impl FromStr for Platform {
    type Err = BadPlatform;

    fn from_str(text: &str) -> Result<Platform, BadPlatform> {
        let parts: Vec<&str> = text.split('/').collect();
        let ok =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        match parts[..] {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform::new(os, arch, None)),
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => {
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

impl Platform {
    /// A platform, with the names other tools use mapped to OCI's
    /// (`x86_64` → `amd64`, `aarch64` → `arm64`).
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

    /// This machine: Linux, on the CPU this program was built for.
    pub fn host() -> Platform {
        let architecture = cratebox_image::platform::architecture();
        let variant = match architecture {
            "arm64" => Some("v8"),
            "arm" => Some("v7"),
            _ => None,
        };
        Platform::new("linux", architecture, variant)
    }

    /// The variant an entry without one stands for: an arm64 image with no
    /// variant is a v8 one.
    fn variant_or_default(&self) -> Option<&str> {
        match (&self.variant, self.architecture.as_str()) {
            (Some(variant), _) => Some(variant),
            (None, "arm64") => Some("v8"),
            (None, _) => None,
        }
    }
}

// ANCHOR: pick
/// The index of the entry in `entries` that is for `want`, if any.
///
/// OS and architecture must be equal. A variant, when `want` names one,
/// must be equal too (an entry without one counting as its architecture's
/// default); when `want` names none, an entry with the default variant
/// (or none) is preferred over the others.
pub fn pick(entries: &[Platform], want: &Platform) -> Option<usize> {
    let same_machine = |p: &Platform| p.os == want.os && p.architecture == want.architecture;
    let wanted_variant = want.variant_or_default();
    let exact = entries
        .iter()
        .position(|p| same_machine(p) && p.variant_or_default() == wanted_variant);
    match (exact, &want.variant) {
        (Some(found), _) => Some(found),
        (None, Some(_)) => None,
        (None, None) => entries.iter().position(same_machine),
    }
}
// ANCHOR_END: pick

#[cfg(test)]
mod tests {
    use super::*;

    fn platforms(list: &[&str]) -> Vec<Platform> {
        list.iter().map(|p| p.parse().unwrap()).collect()
    }

    #[test]
    fn picks_the_machine_asked_for() {
        let index = platforms(&[
            "linux/amd64",
            "linux/arm/v6",
            "linux/arm/v7",
            "linux/arm64/v8",
            "linux/s390x",
            "windows/amd64",
        ]);
        let want = |p: &str| pick(&index, &p.parse().unwrap());
        assert_eq!(want("linux/amd64"), Some(0));
        assert_eq!(want("linux/arm/v7"), Some(2));
        assert_eq!(want("linux/arm/v6"), Some(1));
        assert_eq!(want("linux/arm64"), Some(3));
        assert_eq!(want("linux/arm64/v8"), Some(3));
        assert_eq!(want("windows/amd64"), Some(5));
        assert_eq!(want("linux/arm/v5"), None);
        assert_eq!(want("linux/riscv64"), None);
        // No variant asked for, and no entry with the default: any will do.
        assert_eq!(want("linux/arm"), Some(1));
        // An arm64 entry without a variant is a v8 one.
        let plain = platforms(&["linux/arm64"]);
        assert_eq!(pick(&plain, &"linux/arm64/v8".parse().unwrap()), Some(0));
    }

    #[test]
    fn platform_names() {
        assert_eq!(
            Platform::new("Linux", "x86_64", None).to_string(),
            "linux/amd64"
        );
        assert_eq!(
            Platform::new("linux", "aarch64", Some("v8")).to_string(),
            "linux/arm64/v8"
        );
        for bad in [
            "linux",
            "linux/",
            "/amd64",
            "linux/amd64/v8/x",
            "linux/am d64",
        ] {
            assert_eq!(
                bad.parse::<Platform>(),
                Err(BadPlatform(bad.into())),
                "{bad}"
            );
        }
    }
}
