//! A compiled filter, and handing it to the kernel.
//!
//! Loading is one system call, seccomp(2) with `SECCOMP_SET_MODE_FILTER`,
//! and it is for good: a filter cannot be removed, only more added, and it
//! passes to every child and through every `execve`. That is why a runtime
//! loads it in the container's first process as the very last step before
//! `execve` of the container's command: after the mounts and the hostname,
//! whose calls the filter refuses, and after capabilities are dropped.
//!
//! The kernel accepts a filter only from a process that has set
//! `no_new_privs` (`prctl(PR_SET_NO_NEW_PRIVS, 1)`, after which no `execve`
//! can gain privileges: setuid bits and file capabilities stop working) or
//! that holds `CAP_SYS_ADMIN`. Otherwise a filter could trick a setuid
//! program into a half-failed state: imagine `setuid()` returning an error
//! that sudo never expected. docker sets `no_new_privs` only when asked
//! (`--security-opt no-new-privileges`); otherwise runc loads the filter
//! earlier, while the process still holds `CAP_SYS_ADMIN`, just before it
//! drops capabilities.

use std::collections::BTreeMap;
use std::fmt;

use libc::sock_filter;
use nix::errno::Errno;

use crate::arch::Arch;
use crate::asm::Program;

/// A seccomp program for one architecture, ready to load.
pub struct Filter {
    arch: Arch,
    instructions: Vec<sock_filter>,
    /// A comment for some instructions, by address: which calls a `ret`
    /// decides, which rule it ends. Only `disassemble` reads them.
    notes: BTreeMap<usize, String>,
}

impl Filter {
    pub(crate) fn new(arch: Arch, program: Program) -> Filter {
        Filter {
            arch,
            instructions: program.instructions,
            notes: program.notes,
        }
    }

    /// The architecture the filter's numbers belong to.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// The program, as the kernel receives it.
    pub fn instructions(&self) -> &[sock_filter] {
        &self.instructions
    }

    pub(crate) fn notes(&self) -> &BTreeMap<usize, String> {
        &self.notes
    }

    // ANCHOR: load
    /// Installs the filter on the calling thread, for good.
    ///
    /// Set `no_new_privs` first (`nix::sys::prctl::set_no_new_privs`) or
    /// hold `CAP_SYS_ADMIN`; without either the kernel answers `EACCES`.
    /// `EINVAL` means the kernel rejected the program, `ENOSYS` a kernel
    /// before 3.17 (where `prctl(PR_SET_SECCOMP)` is the only way in).
    ///
    /// This allocates nothing and calls only seccomp(2), so it is safe to
    /// call in a child forked from a multi-threaded process, right before
    /// `execve`.
    pub fn load(&self) -> Result<(), Errno> {
        // The compiler refuses programs over BPF_MAXINSNS, so this holds.
        let len = u16::try_from(self.instructions.len()).map_err(|_| Errno::EINVAL)?;
        let program = libc::sock_fprog {
            len,
            // The kernel only reads through this pointer; the field is
            // `*mut` because C's struct has no const.
            filter: self.instructions.as_ptr().cast_mut(),
        };
        // SAFETY: `program` points at `len` initialised instructions owned by
        // `self`, alive for the whole call; the kernel copies the program
        // before seccomp returns and keeps no pointer into our memory.
        let result = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &program as *const libc::sock_fprog,
            )
        };
        Errno::result(result).map(drop)
    }
    // ANCHOR_END: load
}

/// Two filters are equal when they run the same program for the same
/// architecture; the comments are not compared.
impl PartialEq for Filter {
    fn eq(&self, other: &Filter) -> bool {
        let fields = |i: &sock_filter| (i.code, i.jt, i.jf, i.k);
        self.arch == other.arch
            && self.instructions.len() == other.instructions.len()
            && self
                .instructions
                .iter()
                .map(fields)
                .eq(other.instructions.iter().map(fields))
    }
}

impl Eq for Filter {}

/// Shows the size, not the program: `disassemble` is for reading it.
impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter")
            .field("arch", &self.arch)
            .field("instructions", &self.instructions.len())
            .finish()
    }
}
