//! Reference solution for exercise 11: overlay mount options for a stack of layers.

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
    let lowerdir: Vec<String> = lowers
        .iter()
        .rev()
        .map(|path| path.display().to_string())
        .collect();
    format!(
        "lowerdir={},upperdir={},workdir={}",
        lowerdir.join(":"),
        upper.display(),
        work.display()
    )
}

/// Where each layer of an image is unpacked: one directory per chain ID
/// under `layer_root`, named by the chain ID's 64 hex digits (no
/// `sha256:`), in the same order as `chain_ids`, base first.
pub fn lowers_for(layer_root: &Path, chain_ids: &[Digest]) -> Vec<PathBuf> {
    chain_ids
        .iter()
        .map(|chain_id| layer_root.join(chain_id.hex()))
        .collect()
}
