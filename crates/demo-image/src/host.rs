//! The fallback source: the host's own programs, one for every command on
//! [`COMMANDS`], with every shared library they load.
//!
//! This is what `docker export` of a distribution image would show in
//! miniature: a dynamically linked program is not one file but a small graph
//! of files (the program, the loader, libc, ...). [`crate::elf`] finds that
//! graph by reading the ELF headers; [`crate::mirror`] copies each file to the
//! path the loader will look for inside the container.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::commands::{Need, COMMANDS};
use crate::elf::{self, ElfError};
use crate::mirror::{self, MirrorError};

/// Where the commands are looked for on the host, in order.
const HOST_PATH: [&str; 4] = ["/bin", "/usr/bin", "/sbin", "/usr/sbin"];

/// Copying the host's programs went wrong.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(
        "the host has no {command} (looked in {}), which the demo image must offer: \
         install busybox-static to build the image from busybox, or {package}",
        HOST_PATH.join(", ")
    )]
    Missing {
        command: &'static str,
        package: &'static str,
    },
    #[error("cannot copy {from} to {to}: {source}")]
    Copy {
        from: PathBuf,
        to: PathBuf,
        source: io::Error,
    },
    #[error("cannot find what {binary} loads: {source} (install busybox-static to avoid host libraries)")]
    Dependencies { binary: PathBuf, source: ElfError },
    #[error(transparent)]
    Mirror(#[from] MirrorError),
}

/// Copy every command on the list, and their libraries, into the image's
/// `/bin` at `root`, which must exist. A missing required command stops
/// the build before anything is copied; a missing optional one is left out.
pub(crate) fn install(root: &Path) -> Result<(), HostError> {
    let mut programs = Vec::new();
    for command in &COMMANDS {
        match (find_on_host(command.name), command.need) {
            (Some(path), _) => programs.push((path, command.name)),
            (None, Need::Optional) => {}
            (None, Need::Required) => {
                return Err(HostError::Missing {
                    command: command.name,
                    package: command.package,
                })
            }
        }
    }

    let mut libraries: HashSet<PathBuf> = HashSet::new();
    for (program, name) in &programs {
        copy_program(program, &root.join("bin").join(name))?;
        for library in needs(program)? {
            if libraries.insert(library.clone()) {
                mirror::copy_at_same_path(root, &library)?;
            }
        }
    }
    Ok(())
}

/// The real file behind the first `name` in [`HOST_PATH`] that leads to a
/// regular file.
///
/// `/bin/sh` is usually a symlink (to dash, or bash): we copy what it
/// points to, under the name every script expects. Resolving the link also
/// gives [`elf`] the program's real directory, which `$ORIGIN` in its
/// search path means.
fn find_on_host(name: &str) -> Option<PathBuf> {
    HOST_PATH
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .filter(|path| fs::metadata(path).is_ok_and(|m| m.is_file()))
        .find_map(|path| fs::canonicalize(path).ok())
}

/// Copy a program's contents (symlinks followed) and permission bits, less
/// setuid and setgid.
///
/// Copying the *contents* under the command's own name also keeps multi-call
/// programs working: a coreutils-multicall `ls` still starts as `ls`. The
/// setuid bit goes because a copy never receives the host's security
/// updates: a setuid-root `mount` left under /var/lib/cratebox would stay
/// exploitable by any host user long after the host's own was patched.
fn copy_program(from: &Path, to: &Path) -> Result<(), HostError> {
    let copy = || -> io::Result<()> {
        fs::copy(from, to)?;
        let mode = fs::metadata(to)?.permissions().mode();
        fs::set_permissions(to, fs::Permissions::from_mode(mode & 0o1777))
    };
    copy().map_err(|source| HostError::Copy {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        source,
    })
}

/// What `program` loads. A script (not ELF) loads nothing itself: the kernel
/// runs its `#!` interpreter, which is the shell we copy anyway.
fn needs(program: &Path) -> Result<Vec<PathBuf>, HostError> {
    match elf::dependencies(program) {
        Ok(libraries) => Ok(libraries),
        Err(ElfError::NotElf { .. }) => Ok(Vec::new()),
        Err(source) => Err(HostError::Dependencies {
            binary: program.to_path_buf(),
            source,
        }),
    }
}
