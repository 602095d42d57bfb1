//! The mount plan: every mount, device node and symlink that turns a
//! directory into a container's root, then pivot_root into it.
//!
//! [`mount_plan`] is pure: it returns the list of operations as data, which
//! the tests snapshot and the book prints. [`perform`] carries out one
//! operation, resolving its destination inside the root at that moment
//! ([`crate::mount_point`]). The plan reads top to bottom like the shell
//! commands it stands for (that is what its `Display` prints).

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::MsFlags;
use thiserror::Error;

use crate::devices::{DEVICES, DEV_SYMLINKS};
pub use crate::extra_mount::{ExtraKind, ExtraMount};
use crate::mount_point::MountPointError;
use crate::overlay::OverlayError;

mod display;
mod perform;
pub use perform::{perform, pivot_into};

/// One step of preparing a container's root filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountOp {
    /// Stop mount events from propagating between the host and us:
    /// `mount --make-rprivate /`.
    MakePrivate {
        /// Top of the tree whose propagation changes.
        target: PathBuf,
    },
    /// Make `target` show `source` (`mount --rbind`).
    Bind {
        /// What to show.
        source: PathBuf,
        /// Where to show it.
        target: PathBuf,
        /// Create `target` as an empty file (binding a device node), not a dir.
        file: bool,
    },
    /// Mount a kernel file system such as proc, sysfs, tmpfs or devpts.
    Filesystem {
        /// File system type, as in `mount -t`.
        fstype: &'static str,
        /// Mount point.
        target: PathBuf,
        /// Generic mount flags (read-only, nosuid, ...).
        flags: MsFlags,
        /// File-system-specific options, as in `mount -o`.
        data: Option<&'static str>,
    },
    /// Join image layers into the root with overlayfs.
    Overlay {
        /// The (empty) directory to mount on.
        target: PathBuf,
        /// `lowerdir=...,upperdir=...,workdir=...`.
        options: String,
    },
    /// Create a device node (`mknod`).
    Device {
        /// Path of the node.
        path: PathBuf,
        /// A block device (`b`), not a character one (`c`).
        block: bool,
        /// Driver number.
        major: u64,
        /// Instance number.
        minor: u64,
        /// Permission bits.
        mode: u32,
    },
    /// Create a symbolic link at `link` pointing to `target`.
    Symlink {
        /// The link's own path.
        link: PathBuf,
        /// What it points to, resolved inside the container.
        target: PathBuf,
    },
    /// Make a bind mount read-only (`mount -o remount,bind,ro`).
    ReadOnly {
        /// The mount point.
        target: PathBuf,
        /// It is a file (a file's bind mount), not a directory.
        file: bool,
    },
    /// A tmpfs with options of the user's (`--tmpfs`, chapter 6).
    Tmpfs {
        /// Mount point.
        target: PathBuf,
        /// `size=...,mode=...`.
        options: String,
    },
    /// Copy what the image has at `from` into an empty volume at `to`
    /// (`cp -a`), before the volume is mounted over it, as docker fills
    /// a new volume.
    CopyUp {
        /// The image's directory, inside the root.
        from: PathBuf,
        /// The volume's directory on the host.
        to: PathBuf,
    },
    /// Change a mount's flags (`mount -o remount,bind,...`), keeping the
    /// ones it has (chapter 9: `nodev`, and `ro` with it).
    Remount {
        /// The mount point.
        target: PathBuf,
        /// It is a file's bind mount.
        file: bool,
        /// The flags to add.
        flags: MsFlags,
    },
    /// Hide a path (chapter 9): `/dev/null` over a file, an empty
    /// read-only tmpfs over a directory; nothing when it does not exist.
    Mask {
        /// The path, inside the root.
        target: PathBuf,
    },
    /// Make a path read-only (chapter 9) by binding it onto itself and
    /// remounting the bind read-only; nothing when it does not exist.
    ReadOnlyPath {
        /// The path, inside the root.
        target: PathBuf,
    },
    /// Make `new_root` the root of the mount namespace and detach the old
    /// root, so nothing of the host's tree stays reachable.
    PivotRoot {
        /// The prepared rootfs.
        new_root: PathBuf,
    },
}

/// What the plan depends on besides the rootfs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanOptions {
    /// Inside a user namespace the kernel refuses mknod(2), so device nodes
    /// are bind-mounted from the host's /dev instead (what rootless runc does).
    pub user_namespace: bool,
    /// Overlay mount options (`lowerdir=...,upperdir=...,workdir=...`) when
    /// the root is an image's layers joined by overlayfs (chapter 4), rather
    /// than a plain directory.
    pub overlay: Option<String>,
    /// Volumes, bind mounts and tmpfs mounts (chapter 6), in order.
    pub mounts: Vec<ExtraMount>,
    /// Chapter 9: paths to hide and paths to make read-only, under /proc
    /// and /sys (docker's lists, or none with `--privileged`).
    pub paths: crate::paths::PathRules,
    /// Chapter 9: device nodes besides the default ones (`--device`).
    pub devices: Vec<crate::devices::HostDevice>,
}

// ANCHOR: mount_plan
/// Every step that turns `rootfs` into the root of a fresh mount namespace.
///
/// The kernel file systems are mounted *before* pivot_root: inside a user
/// namespace, the kernel allows a new proc or sysfs only while a full view of
/// the host's is still visible in the namespace, and that view disappears
/// with the old root.
// ANCHOR: mount_plan_start
pub fn mount_plan(rootfs: &Path, options: &PlanOptions) -> Vec<MountOp> {
    let at = |path: &str| rootfs.join(path);
    let hardened = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let mut plan = vec![
        // Nothing we mount may leak out to the host, nor the host's in.
        MountOp::MakePrivate { target: "/".into() },
        match &options.overlay {
            // pivot_root(2) needs the new root to be a mount point.
            None => MountOp::Bind {
                source: rootfs.to_path_buf(),
                target: rootfs.to_path_buf(),
                file: false,
            },
            // An overlay mount is one already; mounting it here, in the
            // container's own mount namespace, means it vanishes with the
            // container and the host never sees it.
            Some(options) => MountOp::Overlay {
                target: rootfs.to_path_buf(),
                options: options.clone(),
            },
        },
        // A proc that shows only this PID namespace's processes.
        MountOp::Filesystem {
            fstype: "proc",
            target: at("proc"),
            flags: hardened,
            data: None,
        },
        // sysfs read-only: the container may look, not reconfigure the host.
        MountOp::Filesystem {
            fstype: "sysfs",
            target: at("sys"),
            flags: hardened | MsFlags::MS_RDONLY,
            data: None,
        },
        // ANCHOR_END: mount_plan_start
        // A small, empty /dev of our own rather than the host's. Chapter 9
        // mounts it `nodev`: a node the container makes there cannot be
        // opened (see `bind_devices` below).
        MountOp::Filesystem {
            fstype: "tmpfs",
            target: at("dev"),
            flags: match options.paths.nodev {
                true => MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_STRICTATIME,
                false => MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
            },
            data: Some("mode=755,size=65536k"),
        },
    ];
    // ANCHOR: mount_plan_devices
    // In a user namespace the kernel refuses mknod, so the host's nodes
    // are bound instead (what rootless runc does). So they are on a `nodev`
    // /dev: each bind is a mount of its own, with the host /dev's flags.
    let bind_devices = options.user_namespace || options.paths.nodev;
    for device in DEVICES {
        let path = at("dev").join(device.name);
        plan.push(match bind_devices {
            true => MountOp::Bind {
                source: Path::new("/dev").join(device.name),
                target: path,
                file: true,
            },
            false => MountOp::Device {
                path,
                block: false,
                major: device.major,
                minor: device.minor,
                mode: device.mode,
            },
        });
    }
    // `--device HOST[:CONTAINER]`: the host's node, the same way.
    for device in &options.devices {
        let path = at(device.container.trim_start_matches('/'));
        plan.push(match bind_devices {
            true => MountOp::Bind {
                source: device.host.clone(),
                target: path,
                file: true,
            },
            false => MountOp::Device {
                path,
                block: device.block,
                major: device.major,
                minor: device.minor,
                mode: device.mode,
            },
        });
    }
    // ANCHOR_END: mount_plan_devices
    plan.extend([
        // A private devpts: the container's terminals, not the host's.
        MountOp::Filesystem {
            fstype: "devpts",
            target: at("dev/pts"),
            flags: MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
            data: Some("newinstance,ptmxmode=0666,mode=0620"),
        },
        MountOp::Symlink {
            link: at("dev/ptmx"),
            target: "pts/ptmx".into(),
        },
        // POSIX shared memory lives in /dev/shm.
        MountOp::Filesystem {
            fstype: "tmpfs",
            target: at("dev/shm"),
            flags: hardened,
            data: Some("mode=1777,size=65536k"),
        },
    ]);
    for (name, target) in DEV_SYMLINKS {
        plan.push(MountOp::Symlink {
            link: at("dev").join(name),
            target: target.into(),
        });
    }
    // Chapter 9: what a container's root must not read or change in the
    // kernel's own file systems.
    plan.extend(crate::paths::hide_and_protect(rootfs, &options.paths));
    // ANCHOR: mount_plan_mounts
    // The user's mounts last: each target is resolved inside the root
    // when it is mounted, like every other.
    for extra in &options.mounts {
        let target = at(extra.target.trim_start_matches('/'));
        match &extra.kind {
            ExtraKind::Bind { source, file, fill } => {
                if *fill {
                    plan.push(MountOp::CopyUp {
                        from: target.clone(),
                        to: source.clone(),
                    });
                }
                plan.push(MountOp::Bind {
                    source: source.clone(),
                    target: target.clone(),
                    file: *file,
                });
            }
            ExtraKind::Tmpfs { options } => plan.push(MountOp::Tmpfs {
                target: target.clone(),
                options: options.clone(),
            }),
        }
        let file = matches!(extra.kind, ExtraKind::Bind { file: true, .. });
        let bind = matches!(extra.kind, ExtraKind::Bind { .. });
        match (extra.readonly, options.paths.nodev && bind) {
            (false, false) => {}
            (true, false) => plan.push(MountOp::ReadOnly { target, file }),
            // Chapter 9: a volume is no way to a device node either.
            (readonly, true) => plan.push(MountOp::Remount {
                target,
                file,
                flags: match readonly {
                    true => MsFlags::MS_NODEV | MsFlags::MS_RDONLY,
                    false => MsFlags::MS_NODEV,
                },
            }),
        }
    }
    // Chapter 9: the root is `nodev` too, and with `--read-only`, `ro`;
    // the mounts on it keep their own flags.
    let root_flags = match (options.paths.nodev, options.paths.read_only_root) {
        (true, true) => Some(MsFlags::MS_NODEV | MsFlags::MS_RDONLY),
        (true, false) => Some(MsFlags::MS_NODEV),
        (false, true) => Some(MsFlags::MS_RDONLY),
        (false, false) => None,
    };
    if let Some(flags) = root_flags {
        plan.push(MountOp::Remount {
            target: rootfs.to_path_buf(),
            file: false,
            flags,
        });
    }
    plan.push(MountOp::PivotRoot {
        new_root: rootfs.to_path_buf(),
    });
    plan
    // ANCHOR_END: mount_plan_mounts
}
// ANCHOR_END: mount_plan

/// A step of the plan that could not be carried out.
#[derive(Debug, Error)]
pub enum MountError {
    /// The kernel refused it.
    #[error("`{step}` failed: {errno}")]
    Kernel {
        /// The step, as its shell command.
        step: String,
        /// What the kernel said.
        errno: Errno,
    },
    /// Its destination, resolved inside the root, cannot take it.
    #[error("`{step}`: {source}")]
    Destination {
        /// The step, as its shell command.
        step: String,
        /// What is wrong with the destination.
        #[source]
        source: MountPointError,
    },
    /// The image's layers could not be joined (the options alone may be
    /// pages long, so the step is not repeated here).
    #[error(transparent)]
    Overlay(#[from] OverlayError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(plan: &[MountOp]) -> String {
        plan.iter().map(|op| format!("{op}\n")).collect()
    }

    #[test]
    fn plan_as_root() {
        insta::assert_snapshot!(render(&mount_plan(
            Path::new("/rootfs"),
            &PlanOptions::default()
        )));
    }

    #[test]
    fn plan_in_user_namespace_binds_devices() {
        let plan = mount_plan(
            Path::new("/rootfs"),
            &PlanOptions {
                user_namespace: true,
                ..PlanOptions::default()
            },
        );
        assert!(!plan.iter().any(|op| matches!(op, MountOp::Device { .. })));
        insta::assert_snapshot!(render(&plan));
    }

    #[test]
    fn plan_over_image_layers_mounts_an_overlay_instead_of_a_bind() {
        let options = "lowerdir=/l/b:/l/a,upperdir=/c/upper,workdir=/c/work".to_string();
        let plan = mount_plan(
            Path::new("/c/merged"),
            &PlanOptions {
                overlay: Some(options),
                ..PlanOptions::default()
            },
        );
        insta::assert_snapshot!(plan[1].to_string(), @"mount -t overlay -o lowerdir=/l/b:/l/a,upperdir=/c/upper,workdir=/c/work overlay /c/merged");
        assert!(!plan.iter().any(|op| matches!(op, MountOp::Bind { .. })));
    }

    #[test]
    fn volumes_binds_and_tmpfs_come_last_before_pivot_root() {
        let mounts = vec![
            ExtraMount {
                target: "/repo".into(),
                kind: ExtraKind::Bind {
                    source: "/srv/apt".into(),
                    file: false,
                    fill: false,
                },
                readonly: true,
            },
            ExtraMount {
                target: "/var/lib/data".into(),
                kind: ExtraKind::Bind {
                    source: "/state/volumes/data/_data".into(),
                    file: false,
                    fill: true,
                },
                readonly: false,
            },
            ExtraMount {
                target: "/run".into(),
                kind: ExtraKind::Tmpfs {
                    options: "size=64m,mode=755".into(),
                },
                readonly: false,
            },
        ];
        let plan = mount_plan(
            Path::new("/rootfs"),
            &PlanOptions {
                mounts,
                ..PlanOptions::default()
            },
        );
        insta::assert_snapshot!(render(&plan[plan.len() - 6..]), @r"
        mount --rbind /srv/apt /rootfs/repo
        mount -o remount,bind,ro /rootfs/repo
        cp -a /rootfs/var/lib/data/. /state/volumes/data/_data
        mount --rbind /state/volumes/data/_data /rootfs/var/lib/data
        mount -t tmpfs -o nosuid,nodev,size=64m,mode=755 tmpfs /rootfs/run
        pivot_root /rootfs (and detach the old root)
        ");
    }

    #[test]
    fn hardened_plan_hides_paths_makes_others_read_only_and_then_the_root() {
        let plan = mount_plan(
            Path::new("/rootfs"),
            &PlanOptions {
                paths: crate::paths::PathRules {
                    read_only_root: true,
                    ..crate::paths::PathRules::docker()
                },
                devices: vec![crate::devices::HostDevice {
                    host: "/dev/loop7".into(),
                    container: "/dev/disk".into(),
                    block: true,
                    major: 7,
                    minor: 7,
                    mode: 0o660,
                }],
                ..PlanOptions::default()
            },
        );
        let rendered = render(&plan);
        let steps: Vec<&str> = rendered
            .lines()
            .filter(|line| {
                [
                    "mask",
                    "remount",
                    "nodev,strictatime",
                    "/rootfs/dev/disk",
                    "/rootfs/dev/null",
                ]
                .iter()
                .any(|word| line.contains(word))
            })
            .collect();
        insta::assert_snapshot!(steps.join("\n"));
        // The root turns read-only after everything is mounted on it.
        assert_eq!(
            plan[plan.len() - 2].to_string(),
            "mount -o remount,bind,ro,nodev /rootfs"
        );
    }

    #[test]
    fn pivot_root_comes_last_and_every_other_path_is_inside_the_rootfs() {
        let plan = mount_plan(Path::new("/rootfs"), &PlanOptions::default());
        assert!(matches!(plan.last(), Some(MountOp::PivotRoot { .. })));
        for op in &plan[2..plan.len() - 1] {
            let path = match op {
                MountOp::Bind { target, .. }
                | MountOp::Filesystem { target, .. }
                | MountOp::Tmpfs { target, .. }
                | MountOp::ReadOnly { target, .. }
                | MountOp::Remount { target, .. } => target,
                MountOp::Device { path, .. } => path,
                MountOp::Symlink { link, .. } => link,
                MountOp::Mask { target } | MountOp::ReadOnlyPath { target } => target,
                other => panic!("unexpected step {other}"),
            };
            assert!(path.starts_with("/rootfs/"), "{op}");
        }
    }
}
