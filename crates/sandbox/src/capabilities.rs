//! Chapter 9: capabilities, root's powers one by one.
//!
//! Linux does not ask "is this process root?" before a privileged act; it
//! asks "does it hold the capability for it?": `CAP_SYS_ADMIN` to mount,
//! `CAP_SYS_MODULE` to load a kernel module, `CAP_NET_RAW` for a raw
//! socket. Root simply starts with all of them. A process has five sets:
//!
//! - **bounding**: the most it can ever get back, even by running a setuid
//!   program; a capability dropped from here is gone for good;
//! - **permitted**: what it holds;
//! - **effective**: what the kernel checks, a subset of permitted;
//! - **inheritable** and **ambient**: what may pass through `execve` to a
//!   program that is not root.
//!
//! docker keeps 14 of the 41 in a container: enough to be an ordinary root
//! (chown files, bind port 80, switch users) and nothing that reaches the
//! kernel as a whole. `--cap-add` and `--cap-drop` change that list.

use std::fmt;
use std::str::FromStr;

use caps::Capability;
use thiserror::Error;

// ANCHOR: default
/// docker's default capabilities: what its containers' root may do.
pub const DOCKER_DEFAULT: [Capability; 14] = [
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FSETID,
    Capability::CAP_FOWNER,
    Capability::CAP_MKNOD,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_KILL,
    Capability::CAP_AUDIT_WRITE,
];
// ANCHOR_END: default

/// A set of capabilities, as the kernel stores it: bit N is capability N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities(u64);

/// A capability name that is none.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("unknown capability {0:?}: use a name from capabilities(7), e.g. NET_ADMIN or CAP_SYS_TIME, or ALL")]
pub struct UnknownCapability(pub String);

impl Capabilities {
    /// docker's default set.
    pub fn docker_default() -> Self {
        DOCKER_DEFAULT.into_iter().collect()
    }

    /// Every capability this library knows (all 41 of Linux 5.9 and later).
    pub fn all() -> Self {
        caps::all().into_iter().collect()
    }

    /// The kernel's bit mask, as `/proc/PID/status` prints it in hex.
    pub fn mask(self) -> u64 {
        self.0
    }

    /// Whether `cap` is in the set.
    pub fn contains(self, cap: Capability) -> bool {
        self.0 & cap.bitmask() != 0
    }

    /// The capabilities in the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        let mut all: Vec<Capability> = caps::all().into_iter().collect();
        all.sort_by_key(|cap| cap.index());
        all.into_iter().filter(move |cap| self.contains(*cap))
    }

    /// Names in the `CAP_CHOWN` form, in bit order.
    pub fn names(self) -> Vec<String> {
        self.iter().map(|cap| cap.to_string()).collect()
    }

    // ANCHOR: changes
    /// The set after `--cap-add` and `--cap-drop`, by docker's rules:
    /// `ALL` among the adds is every capability but the drops; `ALL`
    /// among the drops is just the adds; otherwise the drops come out of
    /// this set, then the adds go in. So `--cap-drop ALL --cap-add
    /// NET_BIND_SERVICE` leaves that one capability.
    pub fn with_changes(self, add: &[String], drop: &[String]) -> Result<Self, UnknownCapability> {
        let is_all = |name: &String| name.eq_ignore_ascii_case("ALL");
        let named = |names: &[String]| -> Result<Capabilities, UnknownCapability> {
            names
                .iter()
                .filter(|name| !is_all(name))
                .map(|name| parse_name(name))
                .collect()
        };
        let (add_set, drop_set) = (named(add)?, named(drop)?);
        Ok(if add.iter().any(is_all) {
            Capabilities(Capabilities::all().0 & !drop_set.0)
        } else if drop.iter().any(is_all) {
            add_set
        } else {
            Capabilities((self.0 & !drop_set.0) | add_set.0)
        })
    }
    // ANCHOR_END: changes
}

impl FromIterator<Capability> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        Capabilities(iter.into_iter().fold(0, |mask, cap| mask | cap.bitmask()))
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.names().join(" "))
    }
}

/// A capability by any of the names docker takes: `CAP_NET_ADMIN`,
/// `NET_ADMIN` or `net_admin`.
pub fn parse_name(name: &str) -> Result<Capability, UnknownCapability> {
    Capability::from_str(&caps::to_canonical(name.trim()))
        .map_err(|_| UnknownCapability(name.to_string()))
}

/// Check `--cap-add`/`--cap-drop` values before anything runs.
pub fn check_names(names: &[String]) -> Result<(), UnknownCapability> {
    for name in names
        .iter()
        .filter(|name| !name.eq_ignore_ascii_case("ALL"))
    {
        parse_name(name)?;
    }
    Ok(())
}

// ANCHOR: limit
/// First half, while still root with every capability: drop what is not
/// in `set` from the bounding set (which takes `CAP_SETPCAP`, so it must
/// come first), and ask to keep the permitted set across the switch to
/// the image's user, so that [`settle`] can still set it afterwards.
pub fn limit_bounding(set: Capabilities) -> Result<(), String> {
    for cap in caps::all().into_iter().filter(|cap| !set.contains(*cap)) {
        // SAFETY: prctl(PR_CAPBSET_DROP) takes integers and touches no memory.
        let dropped =
            unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap.index() as libc::c_ulong, 0, 0, 0) };
        let error = std::io::Error::last_os_error();
        // EINVAL: a capability this kernel does not know, held by no one.
        if dropped != 0 && error.raw_os_error() != Some(libc::EINVAL) {
            return Err(format!("cannot drop {cap} from the bounding set: {error}"));
        }
    }
    // SAFETY: prctl(PR_SET_KEEPCAPS) takes an integer and touches no memory.
    if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) } != 0 {
        return Err(format!(
            "prctl(PR_SET_KEEPCAPS): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}
// ANCHOR_END: limit

/// Second half, once the process is the image's user: the effective and
/// permitted sets become `set` (what of it is still permitted), the
/// inheritable set empty, and the ambient set is cleared, so nothing
/// passes to a program by its file's inheritable bits.
///
/// Root keeps `set` through `execve`. Another user loses it there, as it
/// would in docker: the kernel gives a program run by a non-root user only
/// what its file grants and the ambient set holds, and both are empty.
///
/// One `capset(2)` sets all three sets at once (the caps crate sets one
/// set per call, each after reading all three back).
pub(crate) fn settle(set: Capabilities) -> Result<(), String> {
    // SAFETY: prctl(PR_SET_KEEPCAPS) takes an integer and touches no memory.
    unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0) };
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget(2) writes two CapData for version 3, which `data` holds.
    if unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) } != 0 {
        return Err(format!("capget: {}", std::io::Error::last_os_error()));
    }
    let permitted = u64::from(data[0].permitted) | (u64::from(data[1].permitted) << 32);
    let keep = set.mask() & permitted;
    for (half, word) in data.iter_mut().zip([keep as u32, (keep >> 32) as u32]) {
        *half = CapData {
            effective: word,
            permitted: word,
            inheritable: 0,
        };
    }
    // SAFETY: capset(2) reads the header and two CapData, both ours.
    if unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) } != 0 {
        return Err(format!(
            "cannot set the capabilities: {}",
            std::io::Error::last_os_error()
        ));
    }
    // Ambient capabilities need a 4.3 kernel; an older one has none to clear.
    // SAFETY: prctl(PR_CAP_AMBIENT) takes integers and touches no memory.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    Ok(())
}

/// Set the effective, permitted and inheritable sets to exactly these,
/// in one `capset(2)`, as an OCI runtime's `process.capabilities` asks
/// (chapter 10). The kernel refuses an effective or inheritable set that
/// is not within the permitted one, and a permitted set larger than the
/// process holds.
pub fn set_exactly(
    effective: Capabilities,
    permitted: Capabilities,
    inheritable: Capabilities,
) -> Result<(), String> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let (e, p, i) = (effective.mask(), permitted.mask(), inheritable.mask());
    let data = [
        CapData {
            effective: e as u32,
            permitted: p as u32,
            inheritable: i as u32,
        },
        CapData {
            effective: (e >> 32) as u32,
            permitted: (p >> 32) as u32,
            inheritable: (i >> 32) as u32,
        },
    ];
    // SAFETY: capset(2) reads the header and two CapData, both ours.
    if unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) } != 0 {
        return Err(format!(
            "cannot set the capabilities (effective {effective}, permitted {permitted}): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets, as two 32-bit halves.
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct`: one 32-bit half of each set.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(add: &[&str], drop: &[&str]) -> Result<Capabilities, UnknownCapability> {
        let owned = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        Capabilities::docker_default().with_changes(&owned(add), &owned(drop))
    }

    #[test]
    fn the_default_set_is_the_mask_docker_containers_show() {
        // CapBnd in /proc/self/status of a default docker container.
        assert_eq!(Capabilities::docker_default().mask(), 0x00000000a80425fb);
    }

    #[test]
    fn the_seccomp_crates_list_names_the_same_fourteen() {
        let mut names = cratebox_seccomp::DOCKER_DEFAULT_CAPABILITIES.to_vec();
        names.sort_unstable();
        let mut ours = Capabilities::docker_default().names();
        ours.sort_unstable();
        assert_eq!(ours, names);
    }

    #[test]
    fn names_are_taken_in_every_form_docker_takes() {
        for name in ["CAP_NET_ADMIN", "NET_ADMIN", "net_admin", " Net_Admin "] {
            assert_eq!(parse_name(name), Ok(Capability::CAP_NET_ADMIN), "{name}");
        }
        assert_eq!(
            parse_name("NET_ADMINS").unwrap_err().to_string(),
            "unknown capability \"NET_ADMINS\": use a name from capabilities(7), e.g. NET_ADMIN or CAP_SYS_TIME, or ALL"
        );
    }

    #[test]
    fn adds_and_drops_follow_dockers_order() {
        let only = changed(&["NET_BIND_SERVICE"], &["ALL"]).unwrap();
        assert_eq!(only.names(), ["CAP_NET_BIND_SERVICE"]);
        let all_but = changed(&["ALL"], &["SYS_ADMIN"]).unwrap();
        assert!(!all_but.contains(Capability::CAP_SYS_ADMIN));
        assert!(all_but.contains(Capability::CAP_SYS_MODULE));
        // ALL among the adds wins over ALL among the drops, and drops win
        // over adds of the same name then, as in docker.
        assert_eq!(changed(&["ALL"], &["ALL"]).unwrap(), Capabilities::all());
        assert!(!changed(&["ALL", "NET_RAW"], &["NET_RAW"])
            .unwrap()
            .contains(Capability::CAP_NET_RAW));
        let tweaked = changed(&["sys_time"], &["NET_RAW"]).unwrap();
        assert!(tweaked.contains(Capability::CAP_SYS_TIME));
        assert!(!tweaked.contains(Capability::CAP_NET_RAW));
        assert_eq!(tweaked.names().len(), 14);
        assert!(changed(&["BOGUS"], &[]).is_err());
    }
}
