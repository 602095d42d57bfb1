//! # cratebox-builder: images from Dockerfiles
//!
//! Chapter 5 turns a recipe into an image. The Dockerfile is read by
//! `cratebox-dockerfile`; this crate carries it out, one step at a time,
//! on top of what chapters 2–4 built:
//!
//! | step | what it does | made of |
//! |---|---|---|
//! | `FROM` | starts from an image in the store, `scratch` or an earlier stage | chapter 4's store |
//! | `RUN` | runs a command in a container on the image so far; its changes are a new layer | chapters 2–4: namespaces, limits, overlay, diff |
//! | `COPY`, `ADD` | copy files from the context (or a stage) into a new layer; ADD unpacks tars and fetches URLs | [`copy`], [`archive`] |
//! | the rest | change only the image config (`ENV`, `CMD`, `EXPOSE`, ...) | [`state`] |
//!
//! Every step makes an image, and every image is written to the store;
//! the [`cache`] remembers, for each step's key ([`checksum`]), which
//! image it made, so a rebuild reuses what has not changed.
//!
//! | file | what |
//! |---|---|
//! | `builder` | [`build`]: the loop, the cache check, each instruction |
//! | [`state`] | the image between two steps: layers and config |
//! | [`checksum`] | cache keys, and the checksum of what a COPY reads |
//! | [`cache`] | key → image, one file per step |
//! | [`copy`] | finding COPY's sources, copying them into a new layer |
//! | [`tree`] | reading an image's layers as one tree, without mounting |
//! | [`ignore`] | `.dockerignore` |
//! | [`archive`] | ADD: tar detection and unpacking, downloads |
//! | [`render`] | instructions back to text, for messages and keys |

pub mod archive;
mod builder;
pub mod cache;
pub mod checksum;
pub mod copy;
pub mod ignore;
pub mod render;
pub mod state;
pub mod tree;

pub use builder::{build, BuildError, BuildOptions, Built};
