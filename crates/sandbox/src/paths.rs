//! Chapter 9: masked and read-only paths.
//!
//! `/proc` and `/sys` are the kernel's own file systems, and a new PID
//! namespace's `/proc` still has files that speak of the whole machine:
//! `/proc/kcore` is the host's memory, `/proc/sysrq-trigger` reboots it,
//! `/proc/sys` tunes its kernel. A container's root would hold them all.
//! So docker hides some (a file gets `/dev/null` bound over it, a
//! directory an empty read-only tmpfs) and makes others read-only.

use std::path::Path;

use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use nix::sys::statvfs::{statvfs, FsFlags};

use crate::mount_point::present;
use crate::mounts::MountOp;

// ANCHOR: lists
/// What docker hides in every container but a `--privileged` one.
pub const DOCKER_MASKED: [&str; 11] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// What docker leaves readable but not writable.
pub const DOCKER_READ_ONLY: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];
// ANCHOR_END: lists

/// Which paths a container gets hidden or read-only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PathRules {
    /// Paths to hide.
    pub masked: Vec<String>,
    /// Paths to make read-only.
    pub read_only: Vec<String>,
    /// `--read-only`: the root file system too.
    pub read_only_root: bool,
    /// No device node the container makes may be opened: the root, /dev
    /// and the volumes are mounted `nodev` (the default nodes excepted).
    pub nodev: bool,
}

impl PathRules {
    /// docker's lists.
    pub fn docker() -> Self {
        PathRules {
            masked: DOCKER_MASKED.map(String::from).to_vec(),
            read_only: DOCKER_READ_ONLY.map(String::from).to_vec(),
            read_only_root: false,
            nodev: true,
        }
    }
}

/// The steps that hide docker's masked paths and protect its read-only
/// ones, in the plan right after /proc, /sys and /dev are mounted.
pub(crate) fn hide_and_protect(rootfs: &Path, rules: &PathRules) -> Vec<MountOp> {
    let at = |path: &String| rootfs.join(path.trim_start_matches('/'));
    let hide = rules
        .masked
        .iter()
        .map(|path| MountOp::Mask { target: at(path) });
    let protect = (rules.read_only.iter()).map(|path| MountOp::ReadOnlyPath { target: at(path) });
    hide.chain(protect).collect()
}

// ANCHOR: mask
/// Hide `planned` (a path under `root`): `/dev/null` over a file, an
/// empty read-only tmpfs over a directory. A path this kernel does not
/// have needs no hiding.
pub fn mask(root: &Path, planned: &Path) -> Result<(), Errno> {
    let Some(path) = present(root, planned) else {
        return Ok(());
    };
    if path.is_dir() {
        mount(
            Some("tmpfs"),
            &path,
            Some("tmpfs"),
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            Some("size=0"),
        )
    } else {
        mount(
            Some("/dev/null"),
            &path,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
    }
}
// ANCHOR_END: mask

/// Make `planned` read-only: bind it onto itself, then remount that bind
/// read-only. The remount repeats the flags the mount already has
/// (`nosuid`, `nodev`, `noexec`): in a user namespace the kernel refuses a
/// remount that would drop one of them.
pub fn read_only(root: &Path, planned: &Path) -> Result<(), Errno> {
    let Some(path) = present(root, planned) else {
        return Ok(());
    };
    mount(
        Some(&path),
        &path,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )?;
    remount_adding(&path, MsFlags::MS_RDONLY)
}

// ANCHOR: remount
/// Add `flags` (`ro`, `nodev`, ...) to the mount at `path`. A bind
/// remount sets the mount's flags to exactly those given, so the ones it
/// has are read first and given again: otherwise making a `nodev` mount
/// read-only would quietly drop `nodev`, and in a user namespace the
/// kernel refuses to drop a flag at all.
pub fn remount_adding(path: &Path, flags: MsFlags) -> Result<(), Errno> {
    let kept = statvfs(path)?.flags();
    let mut all = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | flags;
    for (has, flag) in [
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if kept.contains(has) {
            all |= flag;
        }
    }
    // Neither noatime nor relatime: strictatime, which must be said, or
    // the kernel takes relatime (a change it refuses in a user namespace).
    if !kept.intersects(FsFlags::ST_NOATIME | FsFlags::ST_RELATIME) {
        all |= MsFlags::MS_STRICTATIME;
    }
    mount(None::<&str>, path, None::<&str>, all, None::<&str>)
}
// ANCHOR_END: remount
