//! The container's `/dev`: the nodes every container gets (the spec's
//! "default devices"), those `linux.devices` adds, and the usual links.
//!
//! Outside a user namespace the nodes are made with mknod(2). Inside one
//! the kernel refuses mknod, so the host's node of the same path is bound
//! onto an empty file instead (as in chapter 2).

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use cratebox_sandbox::mount_point;
use nix::mount::{mount, MsFlags};
use nix::sys::stat::{makedev, mknod, umask, Mode, SFlag};
use nix::unistd::{chown, Gid, Uid};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};

/// A node to make: path inside the root, kind, numbers, mode, owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Where, inside the container.
    pub path: String,
    /// `c`, `b` or `p`.
    pub kind: char,
    /// Major number.
    pub major: u64,
    /// Minor number.
    pub minor: u64,
    /// Permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
}

// ANCHOR: defaults
/// The spec's default devices: chapter 2's list, the same six.
pub fn default_nodes() -> Vec<Node> {
    cratebox_sandbox::devices::DEVICES
        .iter()
        .map(|device| Node {
            path: format!("/dev/{}", device.name),
            kind: 'c',
            major: device.major,
            minor: device.minor,
            mode: device.mode,
            uid: 0,
            gid: 0,
        })
        .collect()
}
// ANCHOR_END: defaults

/// A `linux.devices` entry as a node.
pub fn node(device: &LinuxDevice) -> Node {
    let kind = match device.typ() {
        LinuxDeviceType::B => 'b',
        LinuxDeviceType::P => 'p',
        _ => 'c',
    };
    Node {
        path: device.path().display().to_string(),
        kind,
        major: device.major().max(0) as u64,
        minor: device.minor().max(0) as u64,
        mode: device.file_mode().unwrap_or(0o666) & 0o7777,
        uid: device.uid().unwrap_or(0),
        gid: device.gid().unwrap_or(0),
    }
}

/// Make `node` under `root` (before pivot_root). In a user namespace,
/// bind the host's node instead.
pub fn make(root: &Path, node: &Node, user_namespace: bool) -> Result<(), String> {
    let planned = root.join(node.path.trim_start_matches('/'));
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        format!("{} ({}): {what}: {e}", node.path, node.kind)
    };
    if user_namespace {
        let target = mount_point::file(root, &planned).map_err(|e| fail("mount point", &e))?;
        return mount(
            Some(node.path.as_str()),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| fail("bind from the host", &e));
    }
    let target = mount_point::entry(root, &planned).map_err(|e| fail("path", &e))?;
    // A node already there (the image's own, or a default one that the
    // config lists again) is replaced.
    if fs::symlink_metadata(&target).is_ok() {
        fs::remove_file(&target).map_err(|e| fail("remove the old one", &e))?;
    }
    let kind = match node.kind {
        'b' => SFlag::S_IFBLK,
        'p' => SFlag::S_IFIFO,
        _ => SFlag::S_IFCHR,
    };
    let old = umask(Mode::empty());
    let made = mknod(
        &target,
        kind,
        Mode::from_bits_truncate(node.mode),
        makedev(node.major, node.minor),
    );
    umask(old);
    made.map_err(|e| fail("mknod", &e))?;
    chown(
        &target,
        Some(Uid::from_raw(node.uid)),
        Some(Gid::from_raw(node.gid)),
    )
    .map_err(|e| fail("chown", &e))
}

/// The links a program expects in `/dev`.
pub fn links(root: &Path) -> Result<(), String> {
    // Chapter 2's (fd, stdin, stdout, stderr), then ptmx and core as runc.
    let mut links: Vec<(&str, &str)> = cratebox_sandbox::devices::DEV_SYMLINKS
        .iter()
        .map(|(name, to)| (*to, *name))
        .collect();
    links.push(("pts/ptmx", "ptmx"));
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "core"));
    }
    let dev = root.join("dev");
    for (to, name) in links {
        let at = dev.join(name);
        if name == "ptmx" && fs::symlink_metadata(&at).is_ok() {
            let _ = fs::remove_file(&at);
        }
        match symlink(to, &at) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("/dev/{name} -> {to}: {e}")),
        }
    }
    Ok(())
}
