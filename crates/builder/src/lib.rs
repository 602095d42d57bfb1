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
//! | the rest | change only the image config (`ENV`, `CMD`, `EXPOSE`, ...) | [`metadata`] |
//!
//! Every step makes an image (a [`NewImage`](cratebox_image::new_image::NewImage)),
//! and every image is written to the store; the [`cache`] remembers, for
//! each step's key ([`checksum`]), which image it made, so a rebuild reuses
//! what has not changed.
//!
//! | file | what |
//! |---|---|
//! | `build` | [`build`]: the loop, and for each step the cache check |
//! | [`stages`] | a stage: its image so far, ARGs, SHELL |
//! | [`metadata`] | the pure part of a step: variables, cache-key text, WORKDIR, config changes |
//! | `run_step` | RUN: a container, its changes as a layer |
//! | `copy_step` | COPY, ADD and WORKDIR's directory: files into a new layer |
//! | [`checksum`] | cache keys, and the checksum of what a COPY reads |
//! | [`cache`] | key → image, one file per step; `prune` |
//! | [`copy`] | finding COPY's sources, copying them into a new layer |
//! | [`tree`] | reading an image's layers as one tree, without mounting |
//! | [`ignore`] | `.dockerignore` |
//! | [`archive`] | ADD: tar detection and unpacking, downloads |
//! | [`render`] | instructions back to text, for messages and keys |
//! | [`scratch`] | a build's temporary directories |
//! | [`error`] | [`BuildError`] and [`StepError`](error::StepError) |

pub mod archive;
mod build;
pub mod cache;
pub mod checksum;
pub mod copy;
mod copy_step;
pub mod error;
pub mod ignore;
pub mod metadata;
pub mod render;
mod run_step;
pub mod scratch;
pub mod stages;
pub mod tree;

pub use build::{build, BuildOptions, Built};
pub use cache::{prune_cache, Pruned};
pub use error::{BuildError, StepError};
