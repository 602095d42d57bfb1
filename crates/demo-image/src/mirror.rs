//! Putting a host file at the *same absolute path* inside the image.
//!
//! The dynamic loader inside the container looks for
//! `/lib64/ld-linux-x86-64.so.2` and `/lib/x86_64-linux-gnu/libc.so.6`, the
//! very paths it uses on the host, so that is where the copies must be. The
//! catch is merged `/usr`: on most current distributions `/lib` is a symlink
//! to `usr/lib` and `/lib64` to `usr/lib64`. Copying the file into a real
//! directory `lib/` would work for that one path but give an image that
//! disagrees with the host about where `/usr/lib` is.
//!
//! So while walking down the path we mirror each *directory* the way the host
//! has it: where the host has a symlink, the image gets the same symlink (same
//! target text) and we follow it; where the host has a directory, the image
//! gets a directory. The *file* itself is always copied as a regular file with
//! the host file's contents (symlinks resolved), because the loader only
//! needs something at the name it looks up, and a copied symlink could point
//! at a file we did not copy.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::{symlink, DirBuilderExt};
use std::path::{Component, Path, PathBuf};

/// Symlinks followed before giving up, as the kernel's own limit (`ELOOP`, 40).
const MAX_LINKS: u32 = 40;

/// Mirroring a host path into the image failed.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error("cannot create {path} in the image: {source}")]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot copy {from} to {to}: {source}")]
    Copy {
        from: PathBuf,
        to: PathBuf,
        source: io::Error,
    },
    #[error("{path} in the image is a file, but {wanted} needs it to be a directory")]
    NotADirectory { path: PathBuf, wanted: PathBuf },
    #[error("too many symlinks while placing {wanted} in the image")]
    Loop { wanted: PathBuf },
}

/// Copy the host file at `host_path` (absolute) into the image at `root`
/// under the same path, mirroring symlinked directories as described above.
/// A path that is already there is left alone: two lookup paths may lead to
/// the same place once `/lib` is a symlink.
pub(crate) fn copy_at_same_path(root: &Path, host_path: &Path) -> Result<(), MirrorError> {
    let destination = place(root, host_path)?;
    if destination.symlink_metadata().is_ok() {
        return Ok(());
    }
    // fs::copy follows symlinks and keeps the permission bits: the real file.
    fs::copy(host_path, &destination).map_err(|source| MirrorError::Copy {
        from: host_path.to_path_buf(),
        to: destination.clone(),
        source,
    })?;
    Ok(())
}

/// One step still to take down the path.
enum Step {
    Down(OsString),
    Up,
}

/// Make sure every directory above `wanted` exists in the image (mirrored
/// from the host), and return where on the host's disk the file should go.
fn place(root: &Path, wanted: &Path) -> Result<PathBuf, MirrorError> {
    let (Some(parent), Some(name)) = (wanted.parent(), wanted.file_name()) else {
        return Err(MirrorError::NotADirectory {
            path: PathBuf::from("/"),
            wanted: wanted.to_path_buf(),
        });
    };
    // `current` is the directory reached so far, as a path inside the image.
    let mut current = PathBuf::from("/");
    let mut todo: VecDeque<Step> = steps(parent).collect();
    let mut links = 0;
    while let Some(step) = todo.pop_front() {
        let name = match step {
            Step::Up => {
                current.pop();
                continue;
            }
            Step::Down(name) => name,
        };
        let inside = current.join(&name);
        let on_disk = on_disk(root, &inside);
        let create_error = |source| MirrorError::Create {
            path: inside.clone(),
            source,
        };
        match on_disk.symlink_metadata() {
            Ok(metadata) if metadata.is_dir() => current = inside,
            Ok(metadata) if metadata.is_symlink() => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(MirrorError::Loop {
                        wanted: wanted.to_path_buf(),
                    });
                }
                let target = fs::read_link(&on_disk).map_err(create_error)?;
                // Resolve the link inside the image: an absolute target
                // starts again from the image root, not the host's.
                if target.is_absolute() {
                    current = PathBuf::from("/");
                }
                for step in steps(&target).collect::<Vec<_>>().into_iter().rev() {
                    todo.push_front(step);
                }
            }
            Ok(_) => {
                return Err(MirrorError::NotADirectory {
                    path: inside,
                    wanted: wanted.to_path_buf(),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Not in the image yet: make it the way the host has it. The
                // host path is `inside` itself, since we followed the same
                // links the host's kernel would.
                match fs::read_link(&inside) {
                    Ok(target) => symlink(&target, &on_disk).map_err(create_error)?,
                    Err(_) => fs::DirBuilder::new()
                        .mode(0o755)
                        .create(&on_disk)
                        .map_err(create_error)?,
                }
                // Take this step again, now that something is there.
                todo.push_front(Step::Down(name));
            }
            Err(source) => return Err(create_error(source)),
        }
    }
    Ok(on_disk(root, &current.join(name)))
}

/// The components of `path` as steps; the root and `.` are no steps at all.
fn steps(path: &Path) -> impl Iterator<Item = Step> + '_ {
    path.components().filter_map(|c| match c {
        Component::Normal(name) => Some(Step::Down(name.to_os_string())),
        Component::ParentDir => Some(Step::Up),
        Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
    })
}

/// Where the image path `inside` is on the host's disk.
fn on_disk(root: &Path, inside: &Path) -> PathBuf {
    root.join(inside.strip_prefix("/").unwrap_or(inside))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinked_directories_are_mirrored_not_flattened() {
        let image = tempfile::TempDir::new().unwrap();
        // Whatever this host looks like, /lib64/ld-linux-x86-64.so.2 must end
        // up as a regular file reachable at that same path, through the same
        // symlinks the host has.
        let loader = Path::new("/lib64/ld-linux-x86-64.so.2");
        copy_at_same_path(image.path(), loader).unwrap();
        let copy = image.path().join("lib64/ld-linux-x86-64.so.2");
        assert!(fs::metadata(&copy).unwrap().is_file());
        assert_eq!(
            fs::metadata(&copy).unwrap().len(),
            fs::metadata(loader).unwrap().len()
        );
        let host_lib64 = Path::new("/lib64").symlink_metadata().unwrap();
        let image_lib64 = image.path().join("lib64").symlink_metadata().unwrap();
        assert_eq!(host_lib64.is_symlink(), image_lib64.is_symlink());
        if host_lib64.is_symlink() {
            assert_eq!(
                fs::read_link(image.path().join("lib64")).unwrap(),
                fs::read_link("/lib64").unwrap()
            );
        }
        // The file itself is copied, never linked, and stays inside the image.
        assert!(copy.symlink_metadata().unwrap().is_file());
        let real = fs::canonicalize(&copy).unwrap();
        let image_root = fs::canonicalize(image.path()).unwrap();
        assert!(real.starts_with(&image_root), "escaped the image: {real:?}");
    }

    #[test]
    fn a_file_in_the_way_is_a_clear_error() {
        let image = tempfile::TempDir::new().unwrap();
        fs::write(image.path().join("etc"), "not a directory").unwrap();
        let error = copy_at_same_path(image.path(), Path::new("/etc/hostname")).unwrap_err();
        assert!(
            matches!(error, MirrorError::NotADirectory { .. }),
            "{error}"
        );
    }
}
