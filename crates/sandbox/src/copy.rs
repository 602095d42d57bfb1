//! Chapter 6: `cp -a` for filling a new volume with what the image has
//! at its mount point, as docker does.
//!
//! Written here rather than taken from a crate: it copies three kinds of
//! entry (directories, files, links) with their owners, modes and times,
//! never follows a link, and runs in the container's child before
//! pivot_root, where a small function with no dependencies is what fits.

use std::fs;
use std::io;
use std::os::unix::fs::{lchown, MetadataExt, PermissionsExt};
use std::path::Path;

/// Copy everything under `from` into `to` (which exists): directories,
/// regular files and symbolic links, with owner and mode. Other entries
/// (device nodes, sockets, fifos) are skipped.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let meta = fs::symlink_metadata(&source)?;
        let kind = meta.file_type();
        if kind.is_dir() {
            fs::create_dir(&target)?;
            copy_tree(&source, &target)?;
        } else if kind.is_file() {
            fs::copy(&source, &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&source)?, &target)?;
        } else {
            continue;
        }
        lchown(&target, Some(meta.uid()), Some(meta.gid()))?;
        if !kind.is_symlink() {
            fs::set_permissions(&target, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_files_dirs_and_links_with_their_modes() {
        let from = tempfile::tempdir().expect("a temp dir");
        let to = tempfile::tempdir().expect("a temp dir");
        fs::create_dir(from.path().join("conf.d")).expect("writable");
        fs::write(from.path().join("conf.d/a.conf"), "a=1\n").expect("writable");
        fs::set_permissions(
            from.path().join("conf.d/a.conf"),
            fs::Permissions::from_mode(0o600),
        )
        .expect("writable");
        std::os::unix::fs::symlink("/etc/passwd", from.path().join("link")).expect("writable");
        copy_tree(from.path(), to.path()).expect("copies");
        let copied = to.path().join("conf.d/a.conf");
        assert_eq!(fs::read_to_string(&copied).expect("copied"), "a=1\n");
        assert_eq!(fs::metadata(&copied).expect("copied").mode() & 0o777, 0o600);
        // The link is copied as a link, not followed.
        assert_eq!(
            fs::read_link(to.path().join("link")).expect("a link"),
            Path::new("/etc/passwd")
        );
    }
}
