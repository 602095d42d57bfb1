//! # Exercise 11: a container's root, as one overlay mount
//!
//! A container's root file system is made by one mount, whatever the size
//! of the image:
//!
//! ```text
//! mount -t overlay overlay \
//!     -o lowerdir=LAYER_N:...:LAYER_1,upperdir=UPPER,workdir=WORK  MERGED
//! ```
//!
//! - the *lower* directories are the image's layers, each unpacked once
//!   under a directory named by its chain ID (exercise 10) and shared,
//!   read-only;
//! - *upper* is the container's own writable layer, *work* overlayfs's
//!   scratch directory on the same file system;
//! - *merged* is what the container sees: every layer, the top one winning.
//!
//! Write the two pieces cratebox builds that mount from: [`lowers_for`],
//! the layer directories of an image, and [`overlay_options`], the `-o`
//! string. Run `cargo ex check 11_overlay_options` until it passes.

// The parameters are unused until the `todo!()`s are replaced.
#![allow(unused_variables)]

use std::path::{Path, PathBuf};

use cratebox_image::digest::Digest;

/// The `-o` options of `mount -t overlay` for a container's root:
///
/// ```text
/// lowerdir=TOP:...:BASE,upperdir=UPPER,workdir=WORK
/// ```
///
/// `lowers` come base first, as an image lists its layers; overlayfs wants
/// them the other way round, the top lower first, each one hiding the ones
/// after it. Paths are written as they are, joined with `:`.
pub fn overlay_options(lowers: &[PathBuf], upper: &Path, work: &Path) -> String {
    // TODO: the lower directories in reverse order, joined with ':'.
    // TODO: then "lowerdir=...,upperdir=...,workdir=..." (`Path::display`
    //       writes a path into a string).
    todo!("the overlay mount options, top lower first")
}

/// Where each layer of an image is unpacked: one directory per chain ID
/// under `layer_root`, named by the chain ID's 64 hex digits (no
/// `sha256:`), in the same order as `chain_ids`, base first.
pub fn lowers_for(layer_root: &Path, chain_ids: &[Digest]) -> Vec<PathBuf> {
    // TODO: one path per chain ID: layer_root joined with its hex digits.
    todo!("the layer directories of an image, base first")
}
