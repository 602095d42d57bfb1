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
