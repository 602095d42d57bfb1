// ANCHOR: devices
//! The device nodes a container's /dev gets.
//!
//! A program expects a handful of character devices: /dev/null to throw
//! output away, /dev/zero and /dev/full for tests and buffers, /dev/random
//! and /dev/urandom for randomness, /dev/tty for its terminal. Docker and
//! runc give exactly these (plus /dev/console), nothing that reaches
//! hardware: a container with /dev/sda could read the host's disk.

// ANCHOR: device
/// One character device: where, which driver (major, minor), permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    /// Name under /dev.
    pub name: &'static str,
    /// Driver number, from the kernel's devices.txt.
    pub major: u64,
    /// Instance number within the driver.
    pub minor: u64,
    /// Permission bits; all of these are world read-write, as on the host.
    pub mode: u32,
}

/// The devices every container gets.
pub const DEVICES: [Device; 6] = [
    Device {
        name: "null",
        major: 1,
        minor: 3,
        mode: 0o666,
    },
    // ANCHOR_END: device
    Device {
        name: "zero",
        major: 1,
        minor: 5,
        mode: 0o666,
    },
    Device {
        name: "full",
        major: 1,
        minor: 7,
        mode: 0o666,
    },
    Device {
        name: "random",
        major: 1,
        minor: 8,
        mode: 0o666,
    },
    Device {
        name: "urandom",
        major: 1,
        minor: 9,
        mode: 0o666,
    },
    Device {
        name: "tty",
        major: 5,
        minor: 0,
        mode: 0o666,
    },
];

/// Symlinks programs look for in /dev, all pointing into /proc.
pub const DEV_SYMLINKS: [(&str, &str); 4] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
];
// ANCHOR_END: devices

/// A device of the host's given to a container: `--device HOST[:CONTAINER]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDevice {
    /// The node on the host.
    pub host: std::path::PathBuf,
    /// Where it appears in the container.
    pub container: String,
    /// A block device, not a character one.
    pub block: bool,
    /// Its driver number.
    pub major: u64,
    /// Its instance number.
    pub minor: u64,
    /// Its permission bits, as on the host.
    pub mode: u32,
}

/// A `--device` value that names no device.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeviceError {
    /// Not `HOST[:CONTAINER[:PERMISSIONS]]` with absolute paths.
    #[error("--device {0:?}: expected HOST[:CONTAINER[:rwm]] with absolute paths, e.g. /dev/fuse or /dev/sdb:/dev/xvdb")]
    Syntax(String),
    /// The host has no device there.
    #[error("--device {spec:?}: {path} is not a device node on this host ({why})")]
    NotADevice {
        /// What was given.
        spec: String,
        /// The host path.
        path: String,
        /// What stat said.
        why: String,
    },
}

impl HostDevice {
    /// Read `--device HOST[:CONTAINER[:PERMISSIONS]]` and look the node up
    /// on the host. The permissions (`rwm`) are accepted as docker takes
    /// them; cratebox keeps no device cgroup, so they limit nothing.
    pub fn parse(spec: &str) -> Result<HostDevice, DeviceError> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let mut parts = spec.split(':');
        let host = parts.next().unwrap_or_default();
        let container = parts.next().unwrap_or(host);
        let permissions = parts.next().unwrap_or("rwm");
        let valid = host.starts_with('/')
            && container.starts_with('/')
            && parts.next().is_none()
            && !permissions.is_empty()
            && permissions.chars().all(|c| "rwm".contains(c));
        if !valid {
            return Err(DeviceError::Syntax(spec.to_string()));
        }
        let not_a_device = |why: String| DeviceError::NotADevice {
            spec: spec.to_string(),
            path: host.to_string(),
            why,
        };
        let metadata = std::fs::metadata(host).map_err(|e| not_a_device(e.to_string()))?;
        let kind = metadata.file_type();
        if !kind.is_block_device() && !kind.is_char_device() {
            return Err(not_a_device("not a block or character device".into()));
        }
        let rdev = metadata.rdev();
        Ok(HostDevice {
            host: host.into(),
            container: container.to_string(),
            block: kind.is_block_device(),
            major: nix::sys::stat::major(rdev),
            minor: nix::sys::stat::minor(rdev),
            mode: metadata.mode() & 0o7777,
        })
    }
}
