//! A container's root: the image's layers, read-only, with one writable
//! layer on top, joined by overlayfs.
//!
//! ```text
//! merged/   what the container sees: every layer, top one winning
//! upper/    the container's own changes (new files, copies of changed ones,
//!           whiteouts for deleted ones)
//! work/     overlayfs's scratch space, same file system as upper/
//! lowers    the image's layers, each unpacked once and shared
//! ```
//!
//! Creating a container is making three empty directories and one mount:
//! it costs the same for a 1 MB and a 1 GB image.

use std::path::{Path, PathBuf};

// ANCHOR: overlay_options
/// The options for `mount -t overlay`: `lowers` are given base first, but
/// overlayfs wants the *top* lower first, so the list is reversed.
///
/// The paths are written in full, so a deep image's options are longer than
/// the one page mount(2) takes; the sandbox shortens them when it mounts
/// (`cratebox_sandbox::overlay`), where the directories can be opened.
pub fn overlay_options(lowers: &[PathBuf], upper: &Path, work: &Path) -> String {
    let lowerdir: Vec<String> = lowers
        .iter()
        .rev()
        .map(|p| p.display().to_string())
        .collect();
    format!(
        "lowerdir={},upperdir={},workdir={}",
        lowerdir.join(":"),
        upper.display(),
        work.display()
    )
}
// ANCHOR_END: overlay_options

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_layer_first() {
        let lowers = ["/layers/a", "/layers/b", "/layers/c"].map(PathBuf::from);
        insta::assert_snapshot!(
            overlay_options(&lowers, Path::new("/c/1/upper"), Path::new("/c/1/work")),
            @"lowerdir=/layers/c:/layers/b:/layers/a,upperdir=/c/1/upper,workdir=/c/1/work"
        );
    }
}
