//! # cratebox-registry: pull and push over the OCI distribution protocol
//!
//! "Just download the image and create a container": this crate is the
//! download. A registry is an HTTP server that hands out two kinds of
//! things by name: *manifests* (small JSON documents, by tag or digest)
//! and *blobs* (configs and layers, by digest only). Pulling is reading a
//! manifest, then every blob it names, checking each against its digest.
//! Pushing is the same in reverse, the manifest last.
//!
//! | file | idea |
//! |---|---|
//! | [`name`] | `alpine` is `docker.io/library/alpine:latest` |
//! | [`challenge`] | `WWW-Authenticate`: what the registry wants |
//! | [`settings`] | logins (`config.json`), insecure registries, CAs |
//! | [`client`] | one registry: the ping, tokens, redirects, retries |
//! | [`manifest`] | media types, the `Accept` list, fetching a manifest |
//! | [`platform`] | which manifest of an index is for this machine |
//! | [`blob`] | a blob download that resumes where it was cut |
//! | [`pull`] | a whole image: layers in parallel, unpacked as they arrive |
//! | [`push`] | a whole image: blobs the registry lacks, then the manifest |
//! | [`progress`] | docker's lines: `Pulling fs layer`, bars, `Pull complete` |
//! | [`sources`] | which repository a blob came from, for cross-repository mounts |

pub mod blob;
pub mod challenge;
pub mod client;
pub mod error;
pub mod manifest;
pub mod name;
pub mod platform;
pub mod progress;
pub mod pull;
pub mod push;
pub mod settings;
pub mod sources;

pub use error::RegistryError;
