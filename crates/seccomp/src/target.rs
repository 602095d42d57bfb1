//! Which container, on which machine, a profile is compiled for.
//!
//! One profile serves every container, so its entries carry conditions: the
//! entry that lets `mount` through applies only to a container that holds
//! `CAP_SYS_ADMIN`, the one that allows `arch_prctl` only on amd64, the one
//! that allows `ptrace` only from Linux 4.8 on. docker resolves them before
//! the filter is built (moby's `profiles/seccomp`), with these rules, which
//! we follow:
//!
//! - `includes`: the entry is used only if *every* listed thing holds:
//!   the container has *all* the capabilities listed, the architecture is
//!   one of those listed, the kernel is at least `minKernel`;
//! - `excludes`: the entry is dropped if *anything* listed holds: the
//!   container has *any* of the capabilities, the architecture is one of
//!   those, the kernel is at least `minKernel`.
//!
//! Capabilities are compared as written (`CAP_SYS_ADMIN`), and docker
//! checks the container's set, not the runtime's own.

use crate::arch::Arch;
use crate::profile::{Condition, Entry};

/// docker's default capabilities by name, as a [`Target`]'s `capabilities`
/// takes them (the same 14 as `cratebox_sandbox::capabilities::DOCKER_DEFAULT`).
pub const DOCKER_DEFAULT_CAPABILITIES: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// The container and machine a filter is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The architecture whose syscall numbers the filter uses.
    pub arch: Arch,
    /// The container's capabilities, written `CAP_SYS_ADMIN`.
    pub capabilities: Vec<String>,
    /// The running kernel's (major, minor) version, for `minKernel`.
    pub kernel: (u32, u32),
}

impl Target {
    /// This machine: the architecture we were built for and the kernel
    /// uname(2) reports. If uname fails, which it does not on Linux, the
    /// kernel counts as 0.0, so that no `minKernel` entry is trusted.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    pub fn host(capabilities: Vec<String>) -> Self {
        let arch = Arch::native().expect("built for x86_64 or aarch64, both of which Arch knows");
        let kernel = nix::sys::utsname::uname()
            .ok()
            .and_then(|uts| parse_kernel_version(&uts.release().to_string_lossy()))
            .unwrap_or((0, 0));
        Target {
            arch,
            capabilities,
            kernel,
        }
    }

    /// Whether `entry` applies to this container on this machine.
    pub fn applies(&self, entry: &Entry) -> bool {
        self.includes(&entry.includes) && !self.excluded_by(&entry.excludes)
    }

    fn has(&self, cap: &str) -> bool {
        self.capabilities.iter().any(|held| held == cap)
    }

    fn is_arch(&self, arches: &[String]) -> bool {
        arches.iter().any(|name| name == self.arch.docker_name())
    }

    fn includes(&self, condition: &Condition) -> bool {
        let new_enough = match condition.min_kernel {
            Some(min) => self.kernel >= min,
            None => true,
        };
        condition.caps.iter().all(|cap| self.has(cap))
            && (condition.arches.is_empty() || self.is_arch(&condition.arches))
            && new_enough
    }

    fn excluded_by(&self, condition: &Condition) -> bool {
        condition.caps.iter().any(|cap| self.has(cap))
            || self.is_arch(&condition.arches)
            || condition.min_kernel.is_some_and(|min| self.kernel >= min)
    }
}

/// `"6.8.0-45-generic"` → `(6, 8)`. Only the first two numbers count, as in
/// docker, which treats 3.12.25-gentoo and 3.12-rc5 both as 3.12.
pub(crate) fn parse_kernel_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split('.');
    let mut number = || -> Option<u32> {
        let part = parts.next()?;
        let digits = part
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(part.len());
        part[..digits].parse().ok()
    };
    Some((number()?, number()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;

    fn entry(includes: Condition, excludes: Condition) -> Entry {
        Entry {
            names: vec!["mount".into()],
            action: Action::Allow,
            args: vec![],
            includes,
            excludes,
            comment: None,
        }
    }

    fn caps(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn target(held: &[&str]) -> Target {
        Target {
            arch: Arch::X86_64,
            capabilities: caps(held),
            kernel: (5, 10),
        }
    }

    #[test]
    fn includes_need_every_capability_listed() {
        let needs_two = entry(
            Condition {
                caps: caps(&["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]),
                ..Condition::default()
            },
            Condition::default(),
        );
        assert!(!target(&["CAP_SYS_ADMIN"]).applies(&needs_two));
        assert!(target(&["CAP_NET_ADMIN", "CAP_SYS_ADMIN"]).applies(&needs_two));
    }

    #[test]
    fn excludes_drop_the_entry_for_any_capability_listed() {
        let unless_either = entry(
            Condition::default(),
            Condition {
                caps: caps(&["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]),
                ..Condition::default()
            },
        );
        assert!(target(&["CAP_CHOWN"]).applies(&unless_either));
        assert!(!target(&["CAP_NET_ADMIN"]).applies(&unless_either));
    }

    #[test]
    fn arches_use_dockers_names_and_kernels_compare_major_then_minor() {
        let amd64_from_4_8 = entry(
            Condition {
                arches: caps(&["amd64", "x32"]),
                min_kernel: Some((4, 8)),
                ..Condition::default()
            },
            Condition::default(),
        );
        assert!(target(&[]).applies(&amd64_from_4_8));
        let old = Target {
            kernel: (4, 4),
            ..target(&[])
        };
        assert!(!old.applies(&amd64_from_4_8));
        let arm = Target {
            arch: Arch::Aarch64,
            ..target(&[])
        };
        assert!(!arm.applies(&amd64_from_4_8));
        let not_on_amd64 = entry(
            Condition::default(),
            Condition {
                arches: caps(&["amd64"]),
                ..Condition::default()
            },
        );
        assert!(!target(&[]).applies(&not_on_amd64));
        assert!(arm.applies(&not_on_amd64));
    }

    #[test]
    fn kernel_versions_keep_the_first_two_numbers() {
        assert_eq!(parse_kernel_version("6.8.0-45-generic"), Some((6, 8)));
        assert_eq!(parse_kernel_version("3.12-rc5"), Some((3, 12)));
        assert_eq!(parse_kernel_version("4.8"), Some((4, 8)));
        assert_eq!(parse_kernel_version("4"), None);
        assert_eq!(parse_kernel_version("four.eight"), None);
    }
}
