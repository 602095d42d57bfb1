//! Which system call a number means depends on the architecture.
//!
//! A filter sees only numbers: `read` is 0 on x86_64 and 63 on aarch64, and
//! number 0 on aarch64 is `io_setup`. So a filter must first check *which*
//! table the number comes from — `seccomp_data.arch`, an `AUDIT_ARCH_*`
//! value from `<linux/audit.h>` — before it compares numbers at all.
//! Forgetting that check is a classic escape: on x86_64 a program can enter
//! the kernel through the 32-bit `int 0x80` door, where 0 is `restart_syscall`
//! and `unshare` is not 272 but 310.
//!
//! The tables themselves come from the `syscalls` crate, generated from the
//! kernel's own syscall tables for each architecture; it is built with both
//! of ours, so a profile can be compiled for aarch64 on an x86_64 machine.

use std::fmt;
use std::str::FromStr;

/// The architectures cratebox compiles filters for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    /// 64-bit x86, `amd64` to docker.
    X86_64,
    /// 64-bit Arm, `arm64` to docker.
    Aarch64,
}

/// `__AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`: the flags of a 64-bit
/// little-endian ABI, added to its ELF machine number.
const AUDIT_ARCH_64_LE: u32 = 0x8000_0000 | 0x4000_0000;

/// The bit x32 programs (64-bit registers, 32-bit pointers) set in their
/// syscall numbers (`__X32_SYSCALL_BIT`). They share `AUDIT_ARCH_X86_64`
/// with ordinary programs, so this bit is the only way to tell them apart.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// The kernel calls aarch64's call 79 `newfstatat`, as on x86_64, and so do
/// libseccomp and docker's profiles; the `syscalls` table names it after
/// its C function, `fstatat`. Without this, `stat` fails in every arm64
/// container.
const NEWFSTATAT: &str = "newfstatat";
/// aarch64's `newfstatat` as the `syscalls` table names it.
const TABLE_FSTATAT: &str = "fstatat";

impl Arch {
    /// The architecture this crate was built for, if it is one we know.
    pub const fn native() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Arch::Aarch64)
        } else {
            None
        }
    }

    /// The `AUDIT_ARCH_*` value the kernel puts in `seccomp_data.arch` for a
    /// call through this architecture's native ABI.
    pub const fn audit(self) -> u32 {
        match self {
            // EM_X86_64
            Arch::X86_64 => AUDIT_ARCH_64_LE | 62,
            // EM_AARCH64
            Arch::Aarch64 => AUDIT_ARCH_64_LE | 183,
        }
    }

    /// The name docker's profiles use for it in `includes.arches` and
    /// `excludes.arches` (libseccomp's, which are Go's).
    pub const fn docker_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Aarch64 => "arm64",
        }
    }

    /// The name a profile's `architectures` and `archMap` use for it.
    pub const fn scmp_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "SCMP_ARCH_X86_64",
            Arch::Aarch64 => "SCMP_ARCH_AARCH64",
        }
    }

    /// The number of the system call `name` in this architecture's table,
    /// or `None` where it has no such call (aarch64 has no `open`: only
    /// `openat`).
    pub fn syscall(self, name: &str) -> Option<u32> {
        let number = match self {
            Arch::X86_64 => syscalls::x86_64::Sysno::from_str(name).ok()?.id(),
            Arch::Aarch64 => {
                let name = if name == NEWFSTATAT {
                    TABLE_FSTATAT
                } else {
                    name
                };
                syscalls::aarch64::Sysno::from_str(name).ok()?.id()
            }
        };
        u32::try_from(number).ok()
    }

    /// The name of system call `number`, for the disassembly's comments.
    pub fn syscall_name(self, number: u32) -> Option<&'static str> {
        let number = usize::try_from(number).ok()?;
        match self {
            Arch::X86_64 => syscalls::x86_64::Sysno::new(number).map(|s| s.name()),
            Arch::Aarch64 => syscalls::aarch64::Sysno::new(number).map(|s| {
                if s.name() == TABLE_FSTATAT {
                    NEWFSTATAT
                } else {
                    s.name()
                }
            }),
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_name_has_a_number_per_architecture() {
        assert_eq!(Arch::X86_64.syscall("read"), Some(0));
        assert_eq!(Arch::Aarch64.syscall("read"), Some(63));
        assert_eq!(Arch::X86_64.syscall("clone3"), Some(435));
        assert_eq!(Arch::Aarch64.syscall("open"), None);
        assert_eq!(Arch::X86_64.syscall("no_such_call"), None);
        assert_eq!(Arch::Aarch64.syscall_name(0), Some("io_setup"));
    }

    #[test]
    fn aarch64_newfstatat_has_the_kernels_name() {
        assert_eq!(Arch::Aarch64.syscall("newfstatat"), Some(79));
        assert_eq!(Arch::Aarch64.syscall_name(79), Some("newfstatat"));
        assert_eq!(Arch::X86_64.syscall("newfstatat"), Some(262));
    }

    #[test]
    fn audit_values_are_the_kernels() {
        assert_eq!(Arch::X86_64.audit(), 0xc000_003e);
        assert_eq!(Arch::Aarch64.audit(), 0xc000_00b7);
    }
}
