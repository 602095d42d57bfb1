//! Mounting an image's layers with overlayfs, however many there are.
//!
//! mount(2) takes a file system's options as one string, and the kernel
//! copies at most one page of it (4096 bytes on x86-64); the rest is cut
//! off, mid-path. Each layer directory is named by its chain ID,
//! `$CRATEBOX_ROOT/layers/<64 hex digits>`, about 90 bytes with its `:`,
//! so an image of some 45 layers no longer fits: the mount fails on a
//! truncated path that does not exist, with no word about why.
//!
//! Others give their layers shorter names. Docker's overlay2 and podman
//! keep a short link for each layer (`l/` and 26 characters) and, past a
//! page, mount with paths relative to their storage directory, from a
//! helper process that changes into it first; containerd's snapshotter does
//! the same with its numbered snapshots. Since Linux 6.8 the new mount API
//! takes one layer per call instead (`fsconfig(fd, FSCONFIG_SET_STRING,
//! "lowerdir+", dir)`), but older kernels, still in wide use, lack it.
//!
//! cratebox needs no second name on disk, and so nothing more to clean up:
//! only when the options do not fit, the container's first process opens
//! each directory (`O_PATH`: a handle on it, nothing read) and names it by
//! its descriptor, relative to `/proc/self/fd`, into which it changes for
//! this one mount:
//!
//! ```text
//! lowerdir=/var/lib/cratebox/layers/9a1c…:/var/lib/cratebox/layers/5f70…,upperdir=…,workdir=…
//! lowerdir=3:4,upperdir=5,workdir=6             (in /proc/self/fd: ~4 bytes a layer)
//! ```
//!
//! The kernel resolves each name while it reads the options, so the
//! descriptors are closed right after (the container's mount table shows
//! the numbers). That leaves overlayfs's own limit, 500 lower layers, as
//! the one that counts.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use nix::unistd::{chdir, sysconf, SysconfVar};
use thiserror::Error;

/// How many lower layers overlayfs stacks at most (`OVL_MAX_STACK`).
pub const MAX_LOWER_LAYERS: usize = 500;

/// The options that name directories, and so may be too long.
const DIRECTORY_OPTIONS: [&str; 3] = ["lowerdir", "upperdir", "workdir"];

/// Why an image's layers could not be mounted.
#[derive(Debug, Error)]
pub enum OverlayError {
    /// More layers than overlayfs stacks.
    #[error("an image of {layers} layers cannot be mounted: overlayfs stacks at most {MAX_LOWER_LAYERS}; squash the image into fewer layers")]
    TooManyLayers {
        /// Lower layers asked for.
        layers: usize,
    },
    /// Even with short names, the options pass the page the kernel takes.
    #[error("an image of {layers} layers cannot be mounted: its overlay options take {bytes} bytes even with every directory named by a descriptor, and mount(2) takes at most {limit} (one page); squash the image into fewer layers")]
    OptionsTooLong {
        /// Lower layers asked for.
        layers: usize,
        /// Length of the shortened options, NUL included.
        bytes: usize,
        /// The page size.
        limit: usize,
    },
    /// A layer (or the upper or work directory) could not be opened.
    #[error("cannot open {path} to mount the image's layers: {source}")]
    Open {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The descriptors' directory is not there (no /proc on the host?).
    #[error("cannot change into /proc/self/fd to mount the image's {layers} layers: {errno}")]
    ProcFd {
        /// Lower layers asked for.
        layers: usize,
        /// What the kernel said.
        errno: Errno,
    },
    /// fuse-overlayfs could not be run, or failed (chapter 9).
    #[error("cannot mount the image's layers ({layers}) on {target} with fuse-overlayfs: {why}: install it (`sudo apt install fuse-overlayfs`), or unset CRATEBOX_OVERLAY on a kernel that mounts overlayfs in a user namespace (5.11 and later)")]
    Fuse {
        /// Lower layers asked for.
        layers: usize,
        /// The mount point.
        target: PathBuf,
        /// What happened.
        why: String,
    },
    /// The kernel refused the mount itself.
    #[error("cannot mount the image's layers ({layers}) on {target} with overlayfs: {errno}")]
    Mount {
        /// Lower layers asked for.
        layers: usize,
        /// The mount point.
        target: PathBuf,
        /// What the kernel said.
        errno: Errno,
    },
}

// ANCHOR: fit_in_page
/// How to hand `options` to mount(2), which takes at most `page` bytes
/// (NUL included): `None` when they fit as they are; otherwise the same
/// options with each directory replaced by what `rename` calls it (the
/// number of a descriptor open on it). Refused when there are more lower
/// layers than overlayfs stacks, or when even the short form passes a page.
pub fn fit_in_page(
    options: &str,
    page: usize,
    mut rename: impl FnMut(&Path) -> Result<String, OverlayError>,
) -> Result<Option<String>, OverlayError> {
    let layers = lower_layers(options);
    if layers > MAX_LOWER_LAYERS {
        return Err(OverlayError::TooManyLayers { layers });
    }
    if options.len() < page {
        return Ok(None);
    }
    let mut short = Vec::new();
    for option in split_unescaped(options, ',') {
        match option.split_once('=') {
            Some((key, dirs)) if DIRECTORY_OPTIONS.contains(&key) => {
                let renamed = split_unescaped(dirs, ':')
                    .into_iter()
                    .map(|dir| rename(Path::new(&unescape(dir))))
                    .collect::<Result<Vec<_>, _>>()?;
                short.push(format!("{key}={}", renamed.join(":")));
            }
            _ => short.push(option.to_string()),
        }
    }
    let short = short.join(",");
    match short.len() < page {
        true => Ok(Some(short)),
        false => Err(OverlayError::OptionsTooLong {
            layers,
            bytes: short.len() + 1,
            limit: page,
        }),
    }
}
// ANCHOR_END: fit_in_page
/// `CRATEBOX_OVERLAY=fuse-overlayfs` mounts the layers with fuse-overlayfs,
/// a user-space overlay, instead of the kernel's overlayfs: what rootless
/// cratebox does on a kernel older than 5.11, which mounts no overlayfs in
/// a user namespace (chapter 9), and what a user may ask for.
pub const OVERLAY_ENV: &str = "CRATEBOX_OVERLAY";
/// The value of [`OVERLAY_ENV`] that asks for fuse-overlayfs.
pub const FUSE_OVERLAYFS: &str = "fuse-overlayfs";

// ANCHOR: fuse_overlayfs
/// Mount the layers with fuse-overlayfs, which takes overlayfs's options.
/// It runs in the container's first process, in the container's mount and
/// PID namespaces: it goes into the background once the mount is up, and
/// stays, serving the files, until the PID namespace ends with the
/// container.
fn mount_fuse_overlayfs(target: &Path, options: &str, layers: usize) -> Result<(), OverlayError> {
    let failed = |why: String| OverlayError::Fuse {
        layers,
        target: target.to_path_buf(),
        why,
    };
    let status = std::process::Command::new(FUSE_OVERLAYFS)
        .arg("-o")
        .arg(options)
        .arg(target)
        // It must not hold the container's output open.
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| failed(e.to_string()))?;
    match status.success() {
        true => Ok(()),
        false => Err(failed(format!("it exited with {status}"))),
    }
}
// ANCHOR_END: fuse_overlayfs

/// `mount -t overlay -o OPTIONS overlay TARGET`, with options of any
/// length [`fit_in_page`] accepts.
pub fn mount_overlay(target: &Path, options: &str) -> Result<(), OverlayError> {
    let layers = lower_layers(options);
    if std::env::var_os(OVERLAY_ENV).is_some_and(|program| program == FUSE_OVERLAYFS) {
        return mount_fuse_overlayfs(target, options, layers);
    }
    // The descriptors must stay open until the kernel has read the options.
    let mut opened: Vec<File> = Vec::new();
    let fitted = fit_in_page(options, page_size(), |dir| {
        // O_PATH opens the directory itself without reading it (std adds
        // O_CLOEXEC: the command started later never sees these).
        let handle = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(dir)
            .map_err(|source| OverlayError::Open {
                path: dir.to_path_buf(),
                source,
            })?;
        let name = handle.as_raw_fd().to_string();
        opened.push(handle);
        Ok(name)
    })?;
    let mount_with = |options: &str| {
        mount(
            Some("overlay"),
            target,
            Some("overlay"),
            MsFlags::empty(),
            Some(options),
        )
        .map_err(|errno| OverlayError::Mount {
            layers,
            target: target.to_path_buf(),
            errno,
        })
    };
    match fitted {
        None => mount_with(options),
        Some(short) => {
            // Relative names are resolved from the working directory, and
            // in this one `4` is the directory descriptor 4 is open on.
            chdir("/proc/self/fd").map_err(|errno| OverlayError::ProcFd { layers, errno })?;
            let mounted = mount_with(&short);
            // Back to a directory that stays: every later step uses
            // absolute paths, and pivot_root changes directory itself.
            let _ = chdir("/");
            mounted
        }
    }
}

/// The size of a page, which is as much of the options as mount(2) copies.
fn page_size() -> usize {
    match sysconf(SysconfVar::PAGE_SIZE) {
        Ok(Some(size)) if size > 0 => size as usize,
        // Every Linux has it; 4096 is the smallest page there is.
        _ => 4096,
    }
}

/// How many directories the `lowerdir` option lists.
fn lower_layers(options: &str) -> usize {
    split_unescaped(options, ',')
        .into_iter()
        .find_map(|option| option.strip_prefix("lowerdir="))
        .map_or(0, |dirs| split_unescaped(dirs, ':').len())
}

/// `text` split at each `separator` not escaped by a backslash: overlayfs's
/// own rule for the `,` between options and the `:` between layers.
fn split_unescaped(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut escaped) = (0, false);
    for (at, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            _ if c == separator => {
                parts.push(&text[start..at]);
                start = at + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// `text` without the backslashes that escape the character after them.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: usize = 4096;

    /// Options as `cratebox_image::overlay::overlay_options` writes them
    /// for `layers` layers under the default state root, top layer first.
    fn options_for(layers: usize) -> String {
        let root = "/var/lib/cratebox";
        let lowers: Vec<String> = (0..layers)
            .rev()
            .map(|n| format!("{root}/layers/{n:064x}"))
            .collect();
        let container = format!("{root}/containers/{:064x}", 7);
        format!(
            "lowerdir={},upperdir={container}/upper,workdir={container}/work",
            lowers.join(":")
        )
    }

    /// Descriptors as the child would get them: 3, 4, 5, … in the order
    /// the directories are opened.
    fn numbered() -> impl FnMut(&Path) -> Result<String, OverlayError> {
        let mut next = 3;
        move |_| {
            next += 1;
            Ok((next - 1).to_string())
        }
    }

    #[test]
    fn a_short_stack_is_mounted_as_it_is() {
        assert_eq!(
            fit_in_page(&options_for(3), PAGE, numbered()).unwrap(),
            None
        );
    }

    #[test]
    fn a_long_stack_is_named_by_descriptors() {
        // 128 layers: over 11 KiB of options, almost three pages.
        let options = options_for(128);
        assert!(options.len() > 2 * PAGE, "{}", options.len());
        let short = fit_in_page(&options, PAGE, numbered())
            .unwrap()
            .expect("renamed");
        assert!(short.len() < PAGE / 4, "{}", short.len());
        insta::assert_snapshot!(short);
    }

    #[test]
    fn each_directory_is_opened_by_its_real_name() {
        let options = format!(
            r"lowerdir=/a\:b:/c\,d:{},upperdir=/u,workdir=/w,index=off",
            "/x".repeat(PAGE)
        );
        let mut seen = Vec::new();
        let short = fit_in_page(&options, PAGE, |dir| {
            seen.push(dir.display().to_string());
            Ok(seen.len().to_string())
        })
        .unwrap();
        assert_eq!(seen[..2], ["/a:b", "/c,d"]);
        assert_eq!(
            short.as_deref(),
            Some("lowerdir=1:2:3,upperdir=4,workdir=5,index=off")
        );
    }

    #[test]
    fn more_layers_than_overlayfs_stacks_are_refused_with_the_reason() {
        let error = fit_in_page(&options_for(501), PAGE, numbered()).unwrap_err();
        insta::assert_snapshot!(error.to_string(), @"an image of 501 layers cannot be mounted: overlayfs stacks at most 500; squash the image into fewer layers");
        assert!(fit_in_page(&options_for(500), PAGE, numbered()).is_ok());
    }

    #[test]
    fn options_too_long_even_when_short_are_refused_with_the_reason() {
        // Other options are passed on as they are, and may be long themselves.
        let options = format!("{},redirect_dir={}", options_for(100), "x".repeat(PAGE));
        let error = fit_in_page(&options, PAGE, numbered()).unwrap_err();
        insta::assert_snapshot!(error.to_string(), @"an image of 100 layers cannot be mounted: its overlay options take 4440 bytes even with every directory named by a descriptor, and mount(2) takes at most 4096 (one page); squash the image into fewer layers");
    }
}
