//! # Exercise 25: capability names, the kernel's bits, docker's flags
//!
//! ```text
//! $ docker run --rm alpine grep Cap /proc/self/status
//! CapBnd: 00000000a80425fb      bit 0 CHOWN, bit 1 DAC_OVERRIDE, ... bit 31 SETFCAP
//!
//! --cap-add SYS_ADMIN           bit 21 set as well:     00000000a82425fb
//! --cap-drop ALL --cap-add NET_BIND_SERVICE             0000000000000400
//! ```
//!
//! Write [`parse_capability`], [`mask`], [`names`] and [`apply`]. The table
//! of names and the error are written. Run `cargo ex check 25_cap_bits`
//! until it passes.

// The parameters are unused until the `todo!()`s are replaced.
#![allow(unused_variables)]

use thiserror::Error;

/// Every capability of Linux 5.9 and later, in bit order: the name at
/// index N is bit N of a mask (capabilities(7), `linux/capability.h`).
pub const CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The word `--cap-add` and `--cap-drop` take for every capability at once.
pub const ALL: &str = "ALL";

/// A name that is not a capability.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CapError {
    /// Not one of [`CAPABILITIES`], with or without its `CAP_`, in any case.
    #[error(
        "unknown capability {0:?}: use a name from capabilities(7), e.g. NET_ADMIN or CAP_SYS_TIME"
    )]
    Unknown(String),
    /// `ALL` where one capability is wanted: only `--cap-add` and
    /// `--cap-drop` (here [`apply`]) know what it means.
    #[error(
        "ALL is not one capability: it means every one, and only --cap-add and --cap-drop take it"
    )]
    All,
}

/// The bit of the capability called `name`, as docker's `--cap-add` reads
/// it: `CAP_SYS_ADMIN`, `SYS_ADMIN` and `sys_admin` are all bit 21. `ALL`
/// (in any case) is [`CapError::All`]; any other name that is not in
/// [`CAPABILITIES`] is [`CapError::Unknown`], holding the name as given.
pub fn parse_capability(name: &str) -> Result<u8, CapError> {
    // TODO: compare in uppercase; ALL is its own error.
    // TODO: put back a missing "CAP_" (or take it off both sides), then
    //       the position of the name in CAPABILITIES is its bit.
    todo!("a capability's bit")
}

/// The mask with the bit of each name set: what `/proc/PID/status` shows
/// in hex. No names is 0; a name twice is set once; the first name that is
/// not a capability is the error.
pub fn mask(names: &[&str]) -> Result<u64, CapError> {
    // TODO: 1 << bit for each name, or-ed together.
    todo!("the mask of these names")
}

/// The names of the capabilities set in `mask`, in bit order, as
/// [`CAPABILITIES`] writes them. Bits past the last capability name
/// nothing and are left out.
pub fn names(mask: u64) -> Vec<&'static str> {
    // TODO: keep the names in CAPABILITIES whose bit is set in mask.
    todo!("the names in this mask")
}

/// The capabilities a container gets, from `default` (docker's 14) and the
/// values of `--cap-add` (`add`) and `--cap-drop` (`drop`), by docker's
/// rules, the first that fits:
///
/// 1. `ALL` in `add`: every capability except those in `drop` (an `ALL`
///    in `drop` does not count here);
/// 2. `ALL` in `drop`: only those in `add`, nothing of `default`;
/// 3. otherwise `default`, without those in `drop`, then with those in
///    `add`: a name in both is kept.
///
/// `ALL` is recognised in any case. Every other name must be a capability,
/// whichever rule applies: the first bad one of `drop`, then of `add`
/// (docker reads the drops first), is the error.
pub fn apply(default: u64, add: &[&str], drop: &[&str]) -> Result<u64, CapError> {
    // TODO: split each list into "has ALL" and the mask of the other names
    //       (checked with parse_capability, drops first).
    // TODO: then the three rules, in order, with & ! and |.
    todo!("the container's capabilities")
}
