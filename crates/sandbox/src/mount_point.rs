//! Where a step of the mount plan lands: its destination resolved inside
//! the container's root, made if it is missing, refused if it is not what
//! the step needs.
//!
//! The plan writes destinations as the host sees them before pivot_root,
//! `<root>/proc`; here they are read as paths *inside* the root (`/proc`)
//! and resolved with [`resolve_in_root`] at the moment the step is
//! performed. Not earlier: with an image, the root is an overlay that the
//! container's first process mounts a few steps before, in its own mount
//! namespace, so the tree does not even exist when the plan is made.
//!
//! | the step needs | exists as a directory | as anything else | missing |
//! |---|---|---|---|
//! | a directory (most mounts) | mount on it | refused | `mkdir -p` inside the root |
//! | a file (binding a device node) | refused | bind onto it | create an empty file |
//! | a new entry (mknod, symlink) | the kernel says EEXIST | the kernel says EEXIST | made in its resolved parent |
//!
//! A destination that resolves to the root itself (`/sys -> ../../..`) is
//! refused too: a mount there would cover the whole image.

use std::fs::{DirBuilder, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::resolve::{resolve_in_root, ResolveError};

/// Why a destination cannot take the step planned for it.
#[derive(Debug, Error)]
pub enum MountPointError {
    /// The plan named a path outside the root: a bug in the plan.
    #[error("{path} is not inside the container's root {root}")]
    Outside {
        /// The destination as planned.
        path: PathBuf,
        /// The root.
        root: PathBuf,
    },
    /// Following the image's links failed.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The image's path leads to its root, and a mount there would hide it all.
    #[error("{path} in the image leads to its root directory, and a mount there would cover the whole image: make {path} a directory")]
    OntoRoot {
        /// The path inside the root.
        path: PathBuf,
    },
    /// A directory is needed, and the image has something else there.
    #[error("{}, a mount point, is not a directory: make it one in the image", shown(.path, .inside))]
    NotADirectory {
        /// The path inside the root, as planned.
        path: PathBuf,
        /// Where it leads inside the root.
        inside: PathBuf,
    },
    /// A file is needed (to bind a file onto), and the image has a directory.
    #[error("{}, a mount point for a file, is a directory in the image", shown(.path, .inside))]
    IsADirectory {
        /// The path inside the root, as planned.
        path: PathBuf,
        /// Where it leads inside the root.
        inside: PathBuf,
    },
    /// Creating the missing mount point failed.
    #[error("cannot create {}: {source}", shown(.path, .inside))]
    Create {
        /// The path inside the root, as planned.
        path: PathBuf,
        /// Where it leads inside the root.
        inside: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// `/dev`, or `/dev (a link to /etc)` when the image's links lead elsewhere.
fn shown(path: &Path, inside: &Path) -> String {
    match path == inside {
        true => path.display().to_string(),
        false => format!("{} (which leads to {})", path.display(), inside.display()),
    }
}

/// A planned destination, inside the root and resolved there.
struct Destination {
    /// As planned, inside the root: `/proc`.
    path: PathBuf,
    /// Resolved, inside the root: `/tmp/x` if `/proc` is a link there.
    inside: PathBuf,
    /// Resolved, on the host: `<root>/tmp/x`.
    host: PathBuf,
}

impl Destination {
    /// Resolve `planned` (a host path under `root`) inside `root`.
    fn resolve(root: &Path, planned: &Path) -> Result<Destination, MountPointError> {
        let relative = planned
            .strip_prefix(root)
            .map_err(|_| MountPointError::Outside {
                path: planned.to_path_buf(),
                root: root.to_path_buf(),
            })?;
        let host = resolve_in_root(root, relative)?;
        let inside = Path::new("/").join(host.strip_prefix(root).unwrap_or(Path::new("")));
        Ok(Destination {
            path: Path::new("/").join(relative),
            inside,
            host,
        })
    }

    /// Refuse a destination that is the root itself, unless it was planned so.
    fn not_the_root(self) -> Result<Destination, MountPointError> {
        match self.inside == Path::new("/") && self.path != Path::new("/") {
            true => Err(MountPointError::OntoRoot { path: self.path }),
            false => Ok(self),
        }
    }

    /// Make this a directory if it is missing, or check that it is one.
    fn ensure_directory(&self) -> Result<(), MountPointError> {
        match self.host.symlink_metadata() {
            Ok(meta) if meta.is_dir() => Ok(()),
            Ok(_) => Err(MountPointError::NotADirectory {
                path: self.path.clone(),
                inside: self.inside.clone(),
            }),
            // Every existing component is a real directory (that is what
            // resolving made sure of), so `mkdir -p` follows no link. The
            // mode is explicit: the child runs with umask 0.
            Err(_) => DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(&self.host)
                .map_err(|source| MountPointError::Create {
                    path: self.path.clone(),
                    inside: self.inside.clone(),
                    source,
                }),
        }
    }
}

/// The host path of `planned`, a directory to mount on: resolved inside
/// `root`, created if missing.
pub fn directory(root: &Path, planned: &Path) -> Result<PathBuf, MountPointError> {
    let destination = Destination::resolve(root, planned)?.not_the_root()?;
    destination.ensure_directory()?;
    Ok(destination.host)
}

/// The host path of `planned` resolved inside `root`, if a directory is
/// there: what an image has where a new volume is mounted.
pub fn existing(root: &Path, planned: &Path) -> Option<PathBuf> {
    let destination = Destination::resolve(root, planned).ok()?;
    destination.host.is_dir().then_some(destination.host)
}

/// The host path of `planned` resolved inside `root`, if anything is
/// there: a masked path that this kernel lacks is simply not masked.
pub fn present(root: &Path, planned: &Path) -> Option<PathBuf> {
    let destination = Destination::resolve(root, planned).ok()?;
    destination
        .host
        .symlink_metadata()
        .is_ok()
        .then_some(destination.host)
}

/// The destinations of one mount plan, resolved inside its root, with the
/// directories already resolved remembered: a plan puts a dozen device
/// nodes and links in `/dev`, and resolving `/dev` once is enough. The
/// answer cannot change in between: nothing runs in the container yet,
/// and the plan makes no link above a path it resolves later (its links
/// are the last names of their own paths).
#[derive(Debug)]
pub struct MountPoints<'a> {
    root: &'a Path,
    /// Planned directory → its host path, resolved and made.
    known: Vec<(PathBuf, PathBuf)>,
}

impl<'a> MountPoints<'a> {
    /// The destinations of a plan for the container whose root is `root`.
    pub fn new(root: &'a Path) -> MountPoints<'a> {
        MountPoints {
            root,
            known: Vec::new(),
        }
    }

    /// The root they are resolved in.
    pub fn root(&self) -> &Path {
        self.root
    }

    /// [`directory`], remembered.
    pub fn directory(&mut self, planned: &Path) -> Result<PathBuf, MountPointError> {
        if let Some((_, host)) = self.known.iter().find(|(p, _)| p == planned) {
            return Ok(host.clone());
        }
        let host = directory(self.root, planned)?;
        self.known.push((planned.to_path_buf(), host.clone()));
        Ok(host)
    }

    /// [`file`] (not remembered: each file is bound once).
    pub fn file(&mut self, planned: &Path) -> Result<PathBuf, MountPointError> {
        file(self.root, planned)
    }

    /// [`entry`], its directory remembered.
    pub fn entry(&mut self, planned: &Path) -> Result<PathBuf, MountPointError> {
        let (Some(parent), Some(name)) = (planned.parent(), planned.file_name()) else {
            return Err(MountPointError::Outside {
                path: planned.to_path_buf(),
                root: self.root.to_path_buf(),
            });
        };
        // The root itself is a fine directory for an entry (`entry`
        // allows it); `directory` would refuse it as a mount point.
        if parent == self.root {
            return entry(self.root, planned);
        }
        Ok(self.directory(parent)?.join(name))
    }
}

/// The host path of `planned`, a file to bind a file onto: resolved inside
/// `root`, created empty if missing.
pub fn file(root: &Path, planned: &Path) -> Result<PathBuf, MountPointError> {
    let destination = Destination::resolve(root, planned)?.not_the_root()?;
    match destination.host.symlink_metadata() {
        Ok(meta) if meta.is_dir() => Err(MountPointError::IsADirectory {
            path: destination.path,
            inside: destination.inside,
        }),
        Ok(_) => Ok(destination.host),
        Err(_) => {
            if let Some(parent) = destination.host.parent() {
                DirBuilder::new()
                    .recursive(true)
                    .mode(0o755)
                    .create(parent)
                    .map_err(|source| MountPointError::Create {
                        path: destination.path.clone(),
                        inside: destination.inside.clone(),
                        source,
                    })?;
            }
            // O_NOFOLLOW: if a link appeared there meanwhile, fail rather
            // than create its target.
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&destination.host)
                .map_err(|source| MountPointError::Create {
                    path: destination.path.clone(),
                    inside: destination.inside.clone(),
                    source,
                })?;
            Ok(destination.host)
        }
    }
}

/// The host path at which to make `planned`, a new device node or link:
/// its directory resolved inside `root` (and created if missing), its own
/// name kept as it is. mknod(2) and symlink(2) never follow a link in the
/// last component: if something is there already, they fail with EEXIST.
pub fn entry(root: &Path, planned: &Path) -> Result<PathBuf, MountPointError> {
    let outside = || MountPointError::Outside {
        path: planned.to_path_buf(),
        root: root.to_path_buf(),
    };
    let (Some(parent), Some(name)) = (planned.parent(), planned.file_name()) else {
        return Err(outside());
    };
    let directory = Destination::resolve(root, parent)?;
    directory.ensure_directory()?;
    Ok(directory.host.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A root with /etc/passwd, and `links` in it.
    fn root_with(links: &[(&str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().expect("a temp dir");
        std::fs::create_dir(root.path().join("etc")).expect("a dir");
        std::fs::write(root.path().join("etc/passwd"), "").expect("a file");
        for (link, target) in links {
            symlink(target, root.path().join(link)).expect("a link");
        }
        root
    }

    /// What each kind of destination makes of `planned` in a fresh root
    /// with `links`: where it lands inside the root, or why not.
    fn outcomes(planned: &str, links: &[(&str, &str)]) -> String {
        type Kind = fn(&Path, &Path) -> Result<PathBuf, MountPointError>;
        let kinds: [(&str, Kind); 3] = [("directory", directory), ("file", file), ("entry", entry)];
        kinds
            .iter()
            .map(|(name, kind)| {
                let root = root_with(links);
                let root = root.path();
                let outcome = match kind(root, &root.join(planned.trim_start_matches('/'))) {
                    Ok(host) => format!("/{}", host.strip_prefix(root).expect("inside").display()),
                    Err(error) => format!("error: {error}"),
                };
                format!("  {name:<9} {outcome}\n")
            })
            .collect()
    }

    #[test]
    fn destinations_land_inside_the_root_or_are_refused() {
        let cases: [(&str, &[(&str, &str)]); 7] = [
            ("/proc", &[]),
            ("/proc", &[("proc", "/tmp/x")]),
            ("/dev/null", &[("dev", "/etc")]),
            ("/sys", &[("sys", "../../..")]),
            ("/etc/passwd", &[]),
            ("/proc", &[("proc", "etc/passwd")]),
            ("/proc", &[("proc", "/proc")]),
        ];
        let table: String = cases
            .iter()
            .map(|(planned, links)| {
                format!("{planned} with {links:?}:\n{}", outcomes(planned, links))
            })
            .collect();
        insta::assert_snapshot!(table);
    }

    #[test]
    fn missing_mount_points_are_made_inside_the_root_only() {
        let outside = tempfile::tempdir().expect("a temp dir");
        let decoy = outside.path().join("decoy");
        let root = root_with(&[("proc", decoy.to_str().expect("utf-8"))]);
        let made = directory(root.path(), &root.path().join("proc")).expect("a mount point");
        assert_eq!(
            made,
            root.path().join(decoy.strip_prefix("/").expect("absolute"))
        );
        assert!(made.is_dir());
        assert!(!decoy.exists(), "nothing is made outside the root");
    }

    #[test]
    fn the_root_itself_is_a_destination_only_when_planned_so() {
        let root = root_with(&[]);
        assert_eq!(
            directory(root.path(), root.path()).expect("the root"),
            root.path()
        );
        assert!(matches!(
            Destination::resolve(root.path(), Path::new("/elsewhere")),
            Err(MountPointError::Outside { .. })
        ));
    }
}
