//! Reference solution for exercise 02: the /dev part of the mount plan.

use std::path::Path;

use cratebox_sandbox::devices::{DEVICES, DEV_SYMLINKS};
use cratebox_sandbox::mounts::MountOp;
use nix::mount::MsFlags;

/// Every step that gives the container at `rootfs` its own /dev.
///
/// `user_namespace` is true when the container runs in a user namespace:
/// device nodes are then bind-mounted from the host instead of created.
pub fn dev_plan(rootfs: &Path, user_namespace: bool) -> Vec<MountOp> {
    let dev = rootfs.join("dev");
    // A small, empty /dev of our own rather than the host's.
    let mut plan = vec![MountOp::Filesystem {
        fstype: "tmpfs",
        target: dev.clone(),
        flags: MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
        data: Some("mode=755,size=65536k"),
    }];
    for device in DEVICES {
        let path = dev.join(device.name);
        plan.push(if user_namespace {
            // mknod(2) needs CAP_MKNOD in the initial user namespace, which a
            // mapped root does not have; the host's node, bound, works.
            MountOp::Bind {
                source: Path::new("/dev").join(device.name),
                target: path,
                file: true,
            }
        } else {
            MountOp::Device {
                path,
                block: false,
                major: device.major,
                minor: device.minor,
                mode: device.mode,
            }
        });
    }
    plan.extend([
        // A private devpts: the container's terminals, not the host's.
        MountOp::Filesystem {
            fstype: "devpts",
            target: dev.join("pts"),
            flags: MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
            data: Some("newinstance,ptmxmode=0666,mode=0620"),
        },
        // Programs open /dev/ptmx; it must be this devpts instance's.
        MountOp::Symlink {
            link: dev.join("ptmx"),
            target: "pts/ptmx".into(),
        },
        // POSIX shared memory lives in /dev/shm.
        MountOp::Filesystem {
            fstype: "tmpfs",
            target: dev.join("shm"),
            flags: MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            data: Some("mode=1777,size=65536k"),
        },
    ]);
    for (name, target) in DEV_SYMLINKS {
        plan.push(MountOp::Symlink {
            link: dev.join(name),
            target: target.into(),
        });
    }
    plan
}
