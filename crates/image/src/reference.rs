//! Image names: `NAME[:TAG]`, as `docker run ubuntu:22.04` takes them, or
//! `NAME@sha256:…` for an image pulled by its digest.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// An image name and tag. The tag defaults to `latest`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    /// Lowercase letters, digits and `._-/` separators, e.g. `demo` or `library/nginx`.
    pub name: String,
    /// Letters, digits, `_.-`, at most 128, e.g. `latest` or `v1.2`; or a
    /// digest, `sha256:…`, written after an `@`.
    pub tag: String,
}

/// A name that docker would not accept either.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid image name {given:?}: {why} (e.g. demo, myapp:v1, library/nginx:1.25)")]
pub struct BadReference {
    /// What was given.
    pub given: String,
    /// What is wrong.
    pub why: &'static str,
}

impl FromStr for Reference {
    type Err = BadReference;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |why| BadReference {
            given: text.to_string(),
            why,
        };
        if let Some((name, digest)) = text.split_once('@') {
            if digest.parse::<crate::digest::Digest>().is_err() {
                return Err(bad("a digest is sha256: and 64 lowercase hex digits"));
            }
            let mut reference: Reference = name.parse()?;
            reference.tag = digest.to_string();
            return Ok(reference);
        }
        // The tag is after the last ':' unless that ':' belongs to a
        // registry port (`host:5000/name`): then a '/' follows it.
        let (name, tag) = match text.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, tag),
            _ => (text, "latest"),
        };
        if name.is_empty() {
            return Err(bad("the name is empty"));
        }
        let name_ok = name.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-:".contains(&b))
                && part
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric())
        });
        if !name_ok {
            return Err(bad(
                "a name is lowercase letters, digits and . _ - separated by /",
            ));
        }
        if tag.is_empty()
            || tag.len() > 128
            || !tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            || tag.starts_with(['.', '-'])
        {
            return Err(bad(
                "a tag is up to 128 letters, digits, _ . - not starting with . or -",
            ));
        }
        Ok(Reference {
            name: name.to_string(),
            tag: tag.to_string(),
        })
    }
}

impl Reference {
    /// The digest, when this names an image by digest rather than by tag.
    pub fn digest(&self) -> Option<&str> {
        self.tag.starts_with("sha256:").then_some(self.tag.as_str())
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.digest() {
            Some(digest) => write!(f, "{}@{digest}", self.name),
            None => write!(f, "{}:{}", self.name, self.tag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_tags() {
        let parse = |s: &str| {
            s.parse::<Reference>()
                .map(|r| r.to_string())
                .map_err(|e| e.to_string())
        };
        assert_eq!(parse("demo"), Ok("demo:latest".into()));
        assert_eq!(parse("myapp:v1.2"), Ok("myapp:v1.2".into()));
        assert_eq!(
            parse("localhost:5000/app"),
            Ok("localhost:5000/app:latest".into())
        );
        assert_eq!(parse("library/nginx:1.25"), Ok("library/nginx:1.25".into()));
        let digest = format!("sha256:{}", "0f".repeat(32));
        assert_eq!(parse(&format!("app@{digest}")), Ok(format!("app@{digest}")));
        assert!(parse("app@sha256:0f").is_err());
        insta::assert_snapshot!(["", "Upper", "app:", "app:-x", "../etc", "a//b"]
            .map(|s| parse(s).unwrap_err())
            .join("\n"));
    }
}
