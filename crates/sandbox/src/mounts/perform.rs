//! Carrying out the plan, one step at a time.

use std::path::Path;

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use nix::unistd::{chdir, pivot_root};

use super::{MountError, MountOp};
use crate::mount_point::{MountPointError, MountPoints};
use crate::overlay::mount_overlay;

/// Carry out one step for the container whose root is `root`.
///
/// Every destination under `root` is a path *inside* the container, and is
/// resolved inside it now, as the step is performed (see
/// [`crate::mount_point`]): a link in the image to `/etc` means the
/// image's /etc, never the host's.
pub fn perform(op: &MountOp, points: &mut MountPoints<'_>) -> Result<(), MountError> {
    let kernel = |errno: Errno| MountError::Kernel {
        step: op.to_string(),
        errno,
    };
    let destination = |source: MountPointError| MountError::Destination {
        step: op.to_string(),
        source,
    };
    let io_fail =
        |e: std::io::Error| kernel(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)));
    match op {
        MountOp::MakePrivate { target } => mount(
            None::<&str>,
            target,
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .map_err(kernel),
        MountOp::Bind {
            source,
            target,
            file,
        } => {
            let target = match file {
                true => points.file(target),
                false => points.directory(target),
            }
            .map_err(destination)?;
            mount(
                Some(source),
                &target,
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            )
            .map_err(kernel)
        }
        MountOp::Filesystem {
            fstype,
            target,
            flags,
            data,
        } => {
            let target = points.directory(target).map_err(destination)?;
            mount(Some(*fstype), &target, Some(*fstype), *flags, *data).map_err(kernel)
        }
        MountOp::Device {
            path,
            block,
            major,
            minor,
            mode,
        } => mknod(
            &points.entry(path).map_err(destination)?,
            if *block {
                SFlag::S_IFBLK
            } else {
                SFlag::S_IFCHR
            },
            Mode::from_bits_truncate(*mode),
            makedev(*major, *minor),
        )
        .map_err(kernel),
        MountOp::Symlink { link, target } => {
            let link = points.entry(link).map_err(destination)?;
            std::os::unix::fs::symlink(target, link).map_err(io_fail)
        }
        MountOp::Overlay { target, options } => Ok(mount_overlay(target, options)?),
        MountOp::Remount {
            target,
            file,
            flags,
        } => {
            let target = match (target == points.root(), file) {
                // The root itself, already a mount point.
                (true, _) => Ok(target.clone()),
                (false, true) => points.file(target),
                (false, false) => points.directory(target),
            }
            .map_err(destination)?;
            crate::paths::remount_adding(&target, *flags).map_err(kernel)
        }
        MountOp::Mask { target } => crate::paths::mask(points.root(), target).map_err(kernel),
        MountOp::ReadOnlyPath { target } => {
            crate::paths::read_only(points.root(), target).map_err(kernel)
        }
        MountOp::ReadOnly { target, file } => {
            let target = match file {
                true => points.file(target),
                false => points.directory(target),
            }
            .map_err(destination)?;
            mount(
                None::<&str>,
                &target,
                None::<&str>,
                MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY,
                None::<&str>,
            )
            .map_err(kernel)
        }
        MountOp::Tmpfs { target, options } => {
            let target = points.directory(target).map_err(destination)?;
            mount(
                Some("tmpfs"),
                &target,
                Some("tmpfs"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                Some(options.as_str()),
            )
            .map_err(kernel)
        }
        MountOp::CopyUp { from, to } => {
            // Nothing to copy when the image has nothing there.
            match crate::mount_point::existing(points.root(), from) {
                Some(from) => crate::copy::copy_tree(&from, to).map_err(io_fail),
                None => Ok(()),
            }
        }
        MountOp::PivotRoot { new_root } => pivot_into(new_root).map_err(kernel),
    }
}

// ANCHOR: pivot_root
/// Make `new_root` the root of this mount namespace and drop the old one.
pub fn pivot_into(new_root: &Path) -> Result<(), Errno> {
    // pivot_root(".", ".") stacks the old root on top of the new one at the
    // same place, so no directory for it is needed inside the image (which
    // a mapped root might not be allowed to create).
    chdir(new_root)?;
    pivot_root(".", ".")?;
    // Lazily detach the old root that now sits on top: from here on no path
    // leads back to the host's files.
    umount2(".", MntFlags::MNT_DETACH)?;
    chdir("/")
}
// ANCHOR_END: pivot_root
