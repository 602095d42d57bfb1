//! Chapter 6: `cp`, files between a container and the host, both ways.
//!
//! ```text
//! cp web:/etc/nginx/nginx.conf .       out of the container
//! cp site/. web:/usr/share/nginx/html  into it (the contents of site/)
//! ```
//!
//! The container's side is a path *inside* its root, resolved there as the
//! container would resolve it (chapter 2's [`resolve_in_root`]): an image's
//! link to `/etc` is its own /etc, and `../../..` stops at its root. A
//! running container's root is `/proc/PID/root`, its init's; a stopped
//! one's layers are mounted for the copy in a mount namespace of a child
//! of ours, so the mount vanishes with the child.

use std::fs;
use std::io;
use std::os::unix::fs::{lchown, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use cratebox_sandbox::resolve::resolve_in_root;

use crate::containers::Record;
use crate::engine::Engine;
use crate::error::EngineError;

/// One end of a `cp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// A path on the host.
    Host(PathBuf),
    /// A path in a container: its name or id, and the path inside.
    Container(String, String),
}

// ANCHOR: parse_end
/// `CONTAINER:PATH` or a host path, as docker tells them apart: a colon
/// before any slash names a container (`./a:b` and `/x:y` are host paths).
pub fn parse_end(arg: &str) -> End {
    match arg.split_once(':') {
        Some((name, path)) if !name.is_empty() && !name.contains('/') => {
            End::Container(name.to_string(), path.to_string())
        }
        _ => End::Host(PathBuf::from(arg)),
    }
}
// ANCHOR_END: parse_end

/// Why a copy failed.
fn failed(what: String) -> impl FnOnce(io::Error) -> EngineError {
    move |source| EngineError::Io {
        what: "copy",
        path: PathBuf::from(what),
        source,
    }
}

impl Engine {
    // ANCHOR: copy
    /// `cp FROM TO`: exactly one end is a container.
    pub fn copy(&self, from: &End, to: &End) -> Result<(), EngineError> {
        let (key, inside, host, into) = match (from, to) {
            (End::Container(key, path), End::Host(host)) => (key, path, host, false),
            (End::Host(host), End::Container(key, path)) => (key, path, host, true),
            _ => {
                return Err(EngineError::Io {
                    what: "copy",
                    path: "between two host paths or two containers".into(),
                    source: io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "name one container, as CONTAINER:PATH, on one side",
                    ),
                })
            }
        };
        let record = self.containers.find(key)?;
        let work = |root: &Path| -> io::Result<()> {
            let resolved = resolve_in_root(root, Path::new(inside))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
            let contents_only = inside.ends_with("/.") || inside == ".";
            match into {
                true => copy_path(host, host.to_string_lossy().ends_with("/."), &resolved),
                false => copy_path(&resolved, contents_only, host),
            }
        };
        match (&record.state.init, record.is_running()) {
            (Some(init), true) if init.is_alive() => {
                work(Path::new(&format!("/proc/{}/root", init.pid)))
                    .map_err(failed(format!("{}:{inside}", record.name)))
            }
            _ => self.with_root_mounted(&record, work),
        }
    }
    // ANCHOR_END: copy

    /// Run `work` on a stopped container's root: its layers mounted by
    /// overlayfs in a child of ours, in a mount namespace of its own.
    fn with_root_mounted(
        &self,
        record: &Record,
        work: impl Fn(&Path) -> io::Result<()>,
    ) -> Result<(), EngineError> {
        let lowers = self.lowers_of(record)?;
        let top = self.containers.dirs(&record.id);
        let mut lowers = lowers;
        if lowers.is_empty() {
            let empty = top.dir.join("empty");
            fs::create_dir_all(&empty).map_err(failed(empty.display().to_string()))?;
            lowers.push(empty);
        }
        let options = cratebox_image::overlay::overlay_options(&lowers, &top.upper, &top.work);
        // SAFETY: a command-line program, single-threaded: the child may
        // allocate before it exits.
        match unsafe { nix::unistd::fork() } {
            Err(errno) => Err(failed("fork".into())(errno.into())),
            Ok(nix::unistd::ForkResult::Child) => {
                let done = (|| -> io::Result<()> {
                    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)?;
                    nix::mount::mount(
                        None::<&str>,
                        "/",
                        None::<&str>,
                        nix::mount::MsFlags::MS_REC | nix::mount::MsFlags::MS_PRIVATE,
                        None::<&str>,
                    )?;
                    cratebox_sandbox::overlay::mount_overlay(&top.merged, &options)
                        .map_err(|e| io::Error::other(e.to_string()))?;
                    work(&top.merged)
                })();
                let code = match done {
                    Ok(()) => 0,
                    Err(error) => {
                        eprintln!("cannot copy: {error}");
                        1
                    }
                };
                // SAFETY: leave without running the parent's exit handlers.
                unsafe { libc::_exit(code) }
            }
            Ok(nix::unistd::ForkResult::Parent { child }) => {
                match nix::sys::wait::waitpid(child, None) {
                    Ok(nix::sys::wait::WaitStatus::Exited(_, 0)) => Ok(()),
                    _ => Err(EngineError::Io {
                        what: "copy",
                        path: format!("{}'s files", record.name).into(),
                        source: io::Error::other("the copy failed (see above)"),
                    }),
                }
            }
        }
    }
}

// ANCHOR: copy_path
/// docker's rules: into an existing directory, a file or directory keeps
/// its name (`dest/NAME`); elsewhere it takes the destination's name;
/// `SRC/.` copies what is in SRC. Owners and modes are kept; a link is
/// copied as a link; a link already at the destination is replaced, never
/// followed.
pub fn copy_path(source: &Path, contents_only: bool, dest: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(source)?;
    let dest_is_dir = fs::symlink_metadata(dest).is_ok_and(|m| m.is_dir());
    let target = match (
        meta.is_dir() && contents_only,
        dest_is_dir,
        source.file_name(),
    ) {
        (true, _, _) => dest.to_path_buf(),
        (false, true, Some(name)) => dest.join(name),
        _ => dest.to_path_buf(),
    };
    copy_entry(source, &meta, &target)
}
// ANCHOR_END: copy_path

fn copy_entry(source: &Path, meta: &fs::Metadata, target: &Path) -> io::Result<()> {
    let existing = fs::symlink_metadata(target).ok();
    let kind = meta.file_type();
    if existing
        .as_ref()
        .is_some_and(|m| m.file_type().is_symlink())
        || (existing.as_ref().is_some_and(|m| m.is_dir()) && !kind.is_dir())
    {
        // Replace what is there rather than write through or into it.
        match existing.as_ref().is_some_and(|m| m.is_dir()) {
            true => fs::remove_dir_all(target)?,
            false => fs::remove_file(target)?,
        }
    }
    if kind.is_dir() {
        if !target.is_dir() {
            fs::create_dir(target)?;
        }
        for entry in fs::read_dir(source)? {
            let entry = entry?;
            let child = fs::symlink_metadata(entry.path())?;
            copy_entry(&entry.path(), &child, &target.join(entry.file_name()))?;
        }
    } else if kind.is_symlink() {
        if fs::symlink_metadata(target).is_ok() {
            fs::remove_file(target)?;
        }
        std::os::unix::fs::symlink(fs::read_link(source)?, target)?;
    } else if kind.is_file() {
        if fs::symlink_metadata(target).is_ok() {
            fs::remove_file(target)?;
        }
        fs::copy(source, target)?;
    } else {
        // Devices, sockets, fifos: not copied, as with cp without -a.
        return Ok(());
    }
    lchown(target, Some(meta.uid()), Some(meta.gid()))?;
    if !kind.is_symlink() {
        fs::set_permissions(target, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_as_docker_reads_them() {
        assert_eq!(
            parse_end("web:/etc/hosts"),
            End::Container("web".into(), "/etc/hosts".into())
        );
        assert_eq!(parse_end("./a:b"), End::Host("./a:b".into()));
        assert_eq!(parse_end("/x:y"), End::Host("/x:y".into()));
        assert_eq!(parse_end("plain"), End::Host("plain".into()));
    }

    #[test]
    fn files_keep_their_name_in_a_directory_and_links_are_replaced() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let src = dir.path().join("src");
        fs::create_dir_all(src.join("sub")).expect("writable");
        fs::write(src.join("sub/a.txt"), "a\n").expect("writable");
        let dest = dir.path().join("dest");
        fs::create_dir(&dest).expect("writable");
        // A link at the destination that points elsewhere is replaced,
        // not written through.
        let elsewhere = dir.path().join("elsewhere");
        std::os::unix::fs::symlink(&elsewhere, dest.join("src")).expect("writable");
        copy_path(&src, false, &dest).expect("copies");
        assert_eq!(
            fs::read_to_string(dest.join("src/sub/a.txt")).expect("copied"),
            "a\n"
        );
        assert!(!elsewhere.exists());
        // SRC/. copies the contents; a file to a new name takes that name.
        let flat = dir.path().join("flat");
        fs::create_dir(&flat).expect("writable");
        copy_path(&src, true, &flat).expect("copies");
        assert!(flat.join("sub/a.txt").is_file());
        copy_path(&src.join("sub/a.txt"), false, &dir.path().join("renamed")).expect("copies");
        assert_eq!(
            fs::read_to_string(dir.path().join("renamed")).expect("copied"),
            "a\n"
        );
    }
}
