//! The preferred source: one static busybox and a symlink per applet.
//!
//! busybox is a single program that acts as `ls`, `sh`, `mount` and some three
//! hundred others, choosing by the name it was started as (`argv[0]`). Built
//! statically, it needs no loader and no library, so one copied file plus a
//! forest of symlinks is a complete userland. This is how Alpine and Docker's
//! own `busybox` image are made.

use std::fs;
use std::io;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use crate::commands::{Need, COMMANDS};
use crate::elf;

/// Where busybox is installed inside the image; every applet links here.
const INSIDE: &str = "/bin/busybox";

/// Where distributions install busybox on the host, in the order we look.
pub(crate) const HOST_CANDIDATES: [&str; 2] = ["/bin/busybox", "/usr/bin/busybox"];

/// Installing busybox went wrong.
#[derive(Debug, thiserror::Error)]
pub enum BusyboxError {
    #[error("cannot copy {from} to {to}: {source}")]
    Copy {
        from: PathBuf,
        to: PathBuf,
        source: io::Error,
    },
    #[error("cannot run {binary} --list-full: {source}")]
    List { binary: PathBuf, source: io::Error },
    #[error("{binary} --list-full failed ({status}): is it a busybox built with applet support?")]
    ListFailed { binary: PathBuf, status: String },
    #[error("cannot link {link} to {INSIDE}: {source}")]
    Link { link: PathBuf, source: io::Error },
    #[error(
        "{binary} has no {applet} applet, which the demo image must offer: install Debian's \
         busybox-static (it has them all), or set CRATEBOX_DEMO_SOURCE=host"
    )]
    MissingApplet {
        binary: PathBuf,
        applet: &'static str,
    },
    #[error("{binary} installs no bin/sh applet, so the image would have no /bin/sh: install busybox-static")]
    NoShell { binary: PathBuf },
}

/// The first static busybox on the host, if any.
///
/// A dynamically linked busybox (the plain `busybox` package on some
/// distributions) would need the host's libc in the image, which is exactly
/// what this source exists to avoid, so it does not count.
pub(crate) fn find_static() -> Option<PathBuf> {
    HOST_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|path| elf::is_static(path).unwrap_or(false))
}

/// Copy `binary` to `/bin/busybox` in the image at `root` and link every
/// applet: the [`COMMANDS`] the image must offer, and whatever else this
/// busybox has.
pub(crate) fn install(root: &Path, binary: &Path) -> Result<(), BusyboxError> {
    // Check the list first, so a busybox built without (say) `timeout` is
    // refused before anything is copied.
    let applets = applets(binary)?;
    let has = |name: &str| applets.iter().any(|a| a.file_name() == Some(name.as_ref()));
    let missing = COMMANDS
        .iter()
        .find(|c| c.need == Need::Required && !has(c.name));
    if let Some(command) = missing {
        return Err(BusyboxError::MissingApplet {
            binary: binary.to_path_buf(),
            applet: command.name,
        });
    }

    let target = root.join(INSIDE.trim_start_matches('/'));
    fs::copy(binary, &target)
        .and_then(|_| fs::set_permissions(&target, fs::Permissions::from_mode(0o755)))
        .map_err(|source| BusyboxError::Copy {
            from: binary.to_path_buf(),
            to: target.clone(),
            source,
        })?;

    for applet in applets {
        let link = root.join(&applet);
        // Skip what would clash: /bin/busybox itself, or an entry that the
        // skeleton (or an earlier applet listed twice) already put there.
        if link.symlink_metadata().is_ok() {
            continue;
        }
        let make = |link: &Path| -> io::Result<()> {
            if let Some(parent) = link.parent() {
                fs::create_dir_all(parent)?;
            }
            // Absolute on purpose: it is resolved inside the container, where
            // / is the image root, wherever the image sits on the host.
            symlink(INSIDE, link)
        };
        make(&link).map_err(|source| BusyboxError::Link {
            link: link.clone(),
            source,
        })?;
    }

    // Scripts and the runtime call the shell by its full path, /bin/sh,
    // so being somewhere on PATH is not enough for this one.
    if root.join("bin/sh").symlink_metadata().is_err() {
        return Err(BusyboxError::NoShell {
            binary: binary.to_path_buf(),
        });
    }
    Ok(())
}

/// The applets `binary` provides, as paths relative to the root
/// (`bin/ls`, `usr/sbin/chroot`), from `busybox --list-full`.
///
/// Running the host's busybox is fine: it only prints its built-in table.
fn applets(binary: &Path) -> Result<Vec<PathBuf>, BusyboxError> {
    let output = Command::new(binary)
        .arg("--list-full")
        .output()
        .map_err(|source| BusyboxError::List {
            binary: binary.to_path_buf(),
            source,
        })?;
    if !output.status.success() {
        return Err(BusyboxError::ListFailed {
            binary: binary.to_path_buf(),
            status: output.status.to_string(),
        });
    }
    Ok(parse_list(&String::from_utf8_lossy(&output.stdout)))
}

/// Keep only lines that are plain relative paths: a line like `../etc/x`
/// must not let a strange busybox write outside the image.
fn parse_list(list: &str) -> Vec<PathBuf> {
    list.lines()
        .map(|line| PathBuf::from(line.trim()))
        .filter(|path| {
            !path.as_os_str().is_empty()
                && path.components().all(|c| matches!(c, Component::Normal(_)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applet_list_keeps_only_relative_paths() {
        let list = "bin/ls\nusr/sbin/chroot\n\n/etc/passwd\n../escape\nlinuxrc\nbin/../x\n";
        let expected: Vec<PathBuf> = ["bin/ls", "usr/sbin/chroot", "linuxrc"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(parse_list(list), expected);
    }
}
