//! Image names as docker reads them: `alpine` is
//! `docker.io/library/alpine:latest`.
//!
//! ```text
//!   localhost:5000/team/app:v2@sha256:9f86…
//!   └─registry───┘ └repo───┘ └tag┘ └digest─┘
//! ```
//!
//! The first part is a registry only when it looks like a host: it has a
//! `.` or a `:` (a port), or is `localhost`. Otherwise the whole name is a
//! repository on Docker Hub, and a one-part name there is an official
//! image, under `library/`.

use std::fmt;

use cratebox_image::digest::Digest;
use cratebox_image::reference::Reference;
use thiserror::Error;

/// The registry a name without one is on.
pub const DOCKER_HUB: &str = "docker.io";

/// Docker Hub's registry API answers at this host, not at `docker.io`.
pub const DOCKER_HUB_ENDPOINT: &str = "registry-1.docker.io";

/// A name docker would not accept either.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid reference format {given:?}: {why} (e.g. alpine, alpine:3.20, localhost:5000/team/app@sha256:…)")]
pub struct BadName {
    /// What was given.
    pub given: String,
    /// What is wrong with it.
    pub why: &'static str,
}

/// A fully qualified image name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    /// `docker.io`, `localhost:5000`, `ghcr.io`.
    pub registry: String,
    /// `library/alpine`, `team/app`.
    pub repository: String,
    /// `latest` when neither a tag nor a digest was given.
    pub tag: Option<String>,
    /// `sha256:…`; when given, it is what is pulled, whatever the tag.
    pub digest: Option<String>,
}

// ANCHOR: parse
impl std::str::FromStr for ImageName {
    type Err = BadName;

    fn from_str(text: &str) -> Result<ImageName, BadName> {
        let bad = |why| BadName {
            given: text.to_string(),
            why,
        };
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (
                rest,
                Some(parse_digest(digest).ok_or(bad("a digest is sha256: and 64 hex digits"))?),
            ),
            None => (text, None),
        };
        // ANCHOR: parse_parts
        // A tag follows the last ':' that comes after the last '/': the
        // ':' of `localhost:5000/app` is a port.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (rest, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(tag) = tag {
            if !valid_tag(tag) {
                return Err(bad(
                    "a tag is 1 to 128 letters, digits, _ . - not starting with . or -",
                ));
            }
        }
        let (registry, repository) = match rest.split_once('/') {
            Some((first, path)) if looks_like_host(first) => (first.to_string(), path.to_string()),
            _ => (DOCKER_HUB.to_string(), rest.to_string()),
        };
        if repository.is_empty() {
            return Err(bad("the repository name is empty"));
        }
        if repository.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(bad("repository name must be lowercase"));
        }
        if !repository.split('/').all(valid_component) {
            return Err(bad(
                "each part of a repository is lowercase letters and digits, joined by . _ __ or -",
            ));
        }
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        let tag = match (&tag, &digest) {
            (None, None) => Some("latest".to_string()),
            _ => tag.map(str::to_string),
        };
        // ANCHOR_END: parse_parts
        Ok(ImageName {
            registry,
            repository,
            tag,
            digest,
        })
    }
}
// ANCHOR_END: parse

/// `localhost`, or anything with a `.` or a port: `ghcr.io`, `10.0.0.1:5000`.
fn looks_like_host(first: &str) -> bool {
    first == "localhost" || first.contains(['.', ':'])
}

/// `[a-z0-9]+` parts joined by one `.`, one or two `_`, or any run of `-`.
fn valid_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut separator = String::new();
    for &b in bytes {
        if alnum(b) {
            let ok = separator.is_empty()
                || separator == "."
                || separator == "_"
                || separator == "__"
                || separator.bytes().all(|s| s == b'-');
            if !ok {
                return false;
            }
            separator.clear();
        } else if b"._-".contains(&b) {
            separator.push(b as char);
        } else {
            return false;
        }
    }
    true
}

fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

fn parse_digest(digest: &str) -> Option<String> {
    digest
        .parse::<Digest>()
        .ok()
        .map(|digest| digest.to_string())
}

impl ImageName {
    /// The host to talk to: Docker Hub's API host for `docker.io`.
    pub fn endpoint(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_ENDPOINT
        } else {
            &self.registry
        }
    }

    /// What the manifest URL ends with: the digest when there is one,
    /// else the tag.
    pub fn reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The repository as docker shows it: `alpine`, `team/app`,
    /// `localhost:5000/app` (Docker Hub and `library/` left out).
    pub fn familiar(&self) -> String {
        if self.registry != DOCKER_HUB {
            return format!("{}/{}", self.registry, self.repository);
        }
        match self.repository.strip_prefix("library/") {
            Some(official) if !official.contains('/') => official.to_string(),
            _ => self.repository.clone(),
        }
    }

    /// The name the local store keeps it under: the familiar name with its
    /// tag, or with its digest when pulled by digest alone.
    pub fn local(&self) -> Reference {
        Reference {
            name: self.familiar(),
            tag: self.reference().to_string(),
        }
    }

    /// The same repository, with another tag.
    pub fn with_tag(&self, tag: &str) -> ImageName {
        ImageName {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        }
    }
}

/// The fully qualified name: `docker.io/library/alpine:latest`.
impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(text: &str) -> String {
        match text.parse::<ImageName>() {
            Ok(name) => format!(
                "{text:<28} → {name}  (endpoint {}, local {})",
                name.endpoint(),
                name.local()
            ),
            Err(e) => format!("{text:<28} ✗ {}", e.why),
        }
    }

    #[test]
    fn names_as_docker_reads_them() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let names = [
            "alpine".to_string(),
            "alpine:3.20".into(),
            "library/alpine".into(),
            "docker.io/library/alpine".into(),
            "bitnami/redis:7.2".into(),
            "localhost:5000/app".into(),
            "localhost/app:v1".into(),
            "127.0.0.1:5000/team/app:v1".into(),
            "ghcr.io/o/r/deep:1".into(),
            format!("alpine@{digest}"),
            format!("alpine:3@{digest}"),
            "Alpine".into(),
            "alpine:".into(),
            "alpine:-x".into(),
            "a//b".into(),
            "a..b".into(),
            "-a".into(),
            "my__app".into(),
            "my___app".into(),
            "alpine@sha256:abc".into(),
            "".into(),
        ];
        insta::assert_snapshot!(names.iter().map(|n| show(n)).collect::<Vec<_>>().join("\n"));
    }
}
