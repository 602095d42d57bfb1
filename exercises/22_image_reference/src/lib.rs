//! # Exercise 22: an image name, read as docker reads it
//!
//! ```text
//! alpine                        docker.io  library/alpine  tag latest
//! bitnami/redis:7.2             docker.io  bitnami/redis   tag 7.2
//! localhost:5000/app            localhost:5000  app        tag latest
//! ghcr.io/o/r:1@sha256:9f86…    ghcr.io    o/r             tag 1, digest sha256:9f86…
//! ```
//!
//! Write [`parse_name`] and [`ImageName::familiar`]. The types, the error
//! messages, [`ImageName::endpoint`], [`ImageName::local`] and the
//! `Display` are written. Run `cargo ex check 22_image_reference` until it
//! passes.

// The parameters are unused until the `todo!()`s are replaced.
#![allow(unused_variables)]

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

/// Read an image name the way `docker pull` does.
///
/// ```text
///   localhost:5000/team/app:v2@sha256:9f86…
///   └─registry───┘ └─repo───┘ └tag┘ └digest─┘
/// ```
///
/// - A digest follows the first `@`: `sha256:` and 64 lowercase hex digits,
///   else [`BadName::Digest`].
/// - A tag follows the last `:` *after the last `/`*: the `:` of
///   `localhost:5000/app` is a port, not a tag. A tag is 1 to 128 letters
///   (either case), digits, `_`, `.` and `-`, and does not start with `.`
///   or `-`; else [`BadName::Tag`].
/// - What is left is `registry/repository` when the part before the first
///   `/` looks like a host: it is `localhost`, or it has a `.` or a `:`.
///   Otherwise it is all repository, on [`DOCKER_HUB`].
/// - The repository is then checked, in this order: not empty
///   ([`BadName::Empty`]), no uppercase letter ([`BadName::Uppercase`]),
///   and each of its `/`-separated parts is lowercase letters and digits,
///   starting and ending with one, joined by one `.`, one `_`, two `_`, or
///   any number of `-` ([`BadName::Component`]). The registry is not
///   checked.
/// - On Docker Hub, a repository of one part is an official image:
///   `alpine` is `library/alpine`.
/// - With neither a tag nor a digest, the tag is `latest`. With a digest
///   and no tag, there is no tag.
pub fn parse_name(text: &str) -> Result<ImageName, BadName> {
    // TODO: split off the digest at the first '@' (split_once) and check it.
    // TODO: find the last '/' (rfind; none means 0), and look for the last
    //       ':' only in what follows it: that is where the tag starts.
    // TODO: split the rest at its first '/'; is the first part a host?
    // TODO: check the repository, add "library/" where it belongs, and
    //       default the tag.
    todo!("read an image name")
}

impl ImageName {
    /// The short name docker shows: `alpine` for
    /// `docker.io/library/alpine`, `bitnami/redis` for
    /// `docker.io/bitnami/redis`, and `localhost:5000/app` (the registry
    /// kept) for any registry other than Docker Hub. No tag, no digest.
    pub fn familiar(&self) -> String {
        // TODO: another registry keeps it: "registry/repository". On Docker
        //       Hub, drop "library/" when what follows it has no '/' left.
        todo!("the name docker shows")
    }
}
