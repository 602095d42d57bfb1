//! Exercise 25, solved.

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

/// The bit of the capability called `name`, in any of docker's forms.
pub fn parse_capability(name: &str) -> Result<u8, CapError> {
    let upper = name.to_ascii_uppercase();
    if upper == ALL {
        return Err(CapError::All);
    }
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    CAPABILITIES
        .iter()
        .position(|known| known.strip_prefix("CAP_") == Some(bare))
        .map(|bit| bit as u8)
        .ok_or_else(|| CapError::Unknown(name.to_string()))
}

/// The mask with the bit of each name set.
pub fn mask(names: &[&str]) -> Result<u64, CapError> {
    names
        .iter()
        .try_fold(0, |mask, name| Ok(mask | (1 << parse_capability(name)?)))
}

/// The names of the capabilities set in `mask`, in bit order.
pub fn names(mask: u64) -> Vec<&'static str> {
    CAPABILITIES
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1 << bit) != 0)
        .map(|(_, name)| *name)
        .collect()
}

/// Whether a list holds `ALL`, and the mask of its other names.
fn split_all(names: &[&str]) -> Result<(bool, u64), CapError> {
    let is_all = |name: &&str| name.eq_ignore_ascii_case(ALL);
    let others: Vec<&str> = names.iter().copied().filter(|n| !is_all(n)).collect();
    Ok((names.iter().any(is_all), mask(&others)?))
}

/// The container's capabilities after `--cap-add` and `--cap-drop`.
pub fn apply(default: u64, add: &[&str], drop: &[&str]) -> Result<u64, CapError> {
    let (drop_all, dropped) = split_all(drop)?;
    let (add_all, added) = split_all(add)?;
    let every = (1 << CAPABILITIES.len()) - 1;
    Ok(if add_all {
        every & !dropped
    } else if drop_all {
        added
    } else {
        (default & !dropped) | added
    })
}
