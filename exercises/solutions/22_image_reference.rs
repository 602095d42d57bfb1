//! Exercise 22, solved.

use std::fmt;

use thiserror::Error;

/// The registry of a name that names none.
pub const DOCKER_HUB: &str = "docker.io";

/// The host that answers for Docker Hub: its registry API is not served
/// at `docker.io` itself.
pub const DOCKER_HUB_ENDPOINT: &str = "registry-1.docker.io";

/// An image name with nothing left implicit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    /// `docker.io`, `localhost:5000`, `ghcr.io`.
    pub registry: String,
    /// `library/alpine`, `team/app`.
    pub repository: String,
    /// The tag; `latest` when the name gave neither a tag nor a digest.
    pub tag: Option<String>,
    /// `sha256:` and 64 hex digits; when there is one, it decides what is
    /// pulled, and the tag is only a label.
    pub digest: Option<String>,
}

/// Why docker would refuse a name, one variant per rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum BadName {
    /// What follows `@` is not `sha256:` and 64 lowercase hex digits.
    #[error("a digest is sha256: and 64 hex digits")]
    Digest,
    /// The tag is empty, too long, starts with `.` or `-`, or holds
    /// something other than letters, digits, `_`, `.` and `-`.
    #[error("a tag is 1 to 128 letters, digits, _ . - not starting with . or -")]
    Tag,
    /// Nothing is left for the repository.
    #[error("the repository name is empty")]
    Empty,
    /// The repository has an uppercase letter.
    #[error("repository name must be lowercase")]
    Uppercase,
    /// A part of the repository between two `/` is not lowercase letters
    /// and digits joined by one separator at a time.
    #[error("each part of a repository is lowercase letters and digits, joined by . _ __ or -")]
    Component,
}

impl ImageName {
    /// The host to send requests to: Docker Hub's API host for `docker.io`,
    /// the registry itself for any other.
    pub fn endpoint(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_ENDPOINT
        } else {
            &self.registry
        }
    }

    /// What a manifest URL ends with: the digest if there is one, else the
    /// tag.
    pub fn reference(&self) -> &str {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => digest,
            (None, Some(tag)) => tag,
            (None, None) => "latest",
        }
    }

    /// The name `docker images` lists it under: the familiar name, then
    /// `@digest` when there is a digest, else `:tag`.
    pub fn local(&self) -> String {
        match &self.digest {
            Some(digest) => format!("{}@{digest}", self.familiar()),
            None => format!("{}:{}", self.familiar(), self.reference()),
        }
    }
}

/// The whole name: `docker.io/library/alpine:latest`,
/// `ghcr.io/o/r:1@sha256:…`.
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

/// An image name as `docker pull` reads it.
pub fn parse_name(text: &str) -> Result<ImageName, BadName> {
    let (rest, digest) = match text.split_once('@') {
        None => (text, None),
        Some((rest, digest)) if is_digest(digest) => (rest, Some(digest.to_string())),
        Some(_) => return Err(BadName::Digest),
    };
    // Only a ':' after the last '/' starts a tag; one before it is a port.
    let last_part = rest.rfind('/').map_or(0, |slash| slash + 1);
    let (rest, tag) = match rest[last_part..].rfind(':') {
        None => (rest, None),
        Some(colon) => {
            let colon = last_part + colon;
            (&rest[..colon], Some(&rest[colon + 1..]))
        }
    };
    if tag.is_some_and(|tag| !is_tag(tag)) {
        return Err(BadName::Tag);
    }
    let (registry, repository) = match rest.split_once('/') {
        Some((first, path)) if is_host(first) => (first, path),
        _ => (DOCKER_HUB, rest),
    };
    if repository.is_empty() {
        return Err(BadName::Empty);
    }
    if repository.contains(|c: char| c.is_ascii_uppercase()) {
        return Err(BadName::Uppercase);
    }
    if !repository.split('/').all(is_component) {
        return Err(BadName::Component);
    }
    let repository = if registry == DOCKER_HUB && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository.to_string()
    };
    let tag = match (tag, &digest) {
        (None, None) => Some("latest".to_string()),
        (tag, _) => tag.map(str::to_string),
    };
    Ok(ImageName {
        registry: registry.to_string(),
        repository,
        tag,
        digest,
    })
}

impl ImageName {
    /// The short name docker shows.
    pub fn familiar(&self) -> String {
        if self.registry != DOCKER_HUB {
            return format!("{}/{}", self.registry, self.repository);
        }
        match self.repository.strip_prefix("library/") {
            Some(official) if !official.contains('/') => official.to_string(),
            _ => self.repository.clone(),
        }
    }
}

/// `localhost`, or a name with a dot or a port in it.
fn is_host(first: &str) -> bool {
    first == "localhost" || first.contains(['.', ':'])
}

fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

fn is_tag(tag: &str) -> bool {
    (1..=128).contains(&tag.len())
        && !tag.starts_with(['.', '-'])
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Lowercase letters and digits at both ends, and between them runs of
/// letters and digits joined by `.`, `_`, `__` or any number of `-`.
fn is_component(part: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    part.starts_with(alnum)
        && part.ends_with(alnum)
        && part
            .split(alnum)
            .filter(|separator| !separator.is_empty())
            .all(|separator| {
                matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-')
            })
}
