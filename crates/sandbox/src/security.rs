//! Chapter 9: what the command may do once it runs.
//!
//! Namespaces decide what a container *sees*; these decide what its root
//! may *do* to the kernel it shares with the host. Three layers, set in
//! this order between the switch to the image's user and `execve`:
//!
//! 1. **capabilities** ([`crate::capabilities`]): root's powers cut down
//!    to docker's 14;
//! 2. **no_new_privs**: from here on no `execve` grants anything, not a
//!    setuid binary's owner nor a file's capabilities;
//! 3. **seccomp**: a BPF filter the kernel runs on every system call,
//!    refusing the ones a container has no business making.
//!
//! Why this order: the bounding set can only be cut while we still hold
//! `CAP_SETPCAP`, so capabilities come first. Loading a seccomp filter
//! takes either `CAP_SYS_ADMIN` (which the container does not keep) or
//! no_new_privs, so no_new_privs comes before it. And the filter comes
//! last of all, right before `execve`, so that it never has to allow a
//! system call that only the setup makes.
//!
//! Without no_new_privs (`--security-opt no-new-privileges=false`) the
//! filter can only be loaded while `CAP_SYS_ADMIN` is still held: first of
//! all, then. The filter must then allow what the rest of the setup does
//! (`capset`, `prctl`, `setresuid`, `execve`), which docker's profile does.

use std::sync::Arc;

use cratebox_seccomp::Filter;

use crate::capabilities::{self, Capabilities};

/// The limits a container's processes run under. The default limits
/// nothing: the chapters before 9 run their root with every power, to show
/// what the isolation alone does.
#[derive(Debug, Clone, Default)]
pub struct ProcessSecurity {
    /// What is left of root's capabilities; `None` keeps them all.
    pub capabilities: Option<Capabilities>,
    /// Set `no_new_privs` (docker's `--security-opt no-new-privileges`).
    pub no_new_privileges: bool,
    /// The compiled seccomp filter, if any.
    pub seccomp: Option<Arc<Filter>>,
}

impl PartialEq for ProcessSecurity {
    fn eq(&self, other: &Self) -> bool {
        let same_filter = match (&self.seccomp, &other.seccomp) {
            (Some(a), Some(b)) => {
                a.instructions().len() == b.instructions().len()
                    && a.instructions()
                        .iter()
                        .zip(b.instructions())
                        .all(|(x, y)| (x.code, x.jt, x.jf, x.k) == (y.code, y.jt, y.jf, y.k))
            }
            (None, None) => true,
            _ => false,
        };
        self.capabilities == other.capabilities
            && self.no_new_privileges == other.no_new_privileges
            && same_filter
    }
}

impl Eq for ProcessSecurity {}

impl ProcessSecurity {
    // ANCHOR: before_user
    /// While still root with every capability, before the switch to the
    /// image's user.
    pub(crate) fn before_user(&self) -> Result<(), String> {
        if !self.no_new_privileges {
            self.load_seccomp()?;
        }
        match self.capabilities {
            Some(set) => capabilities::limit_bounding(set),
            None => Ok(()),
        }
    }
    // ANCHOR_END: before_user

    // ANCHOR: after_user
    /// Once the process is the image's user, right before `execve`.
    pub(crate) fn after_user(&self) -> Result<(), String> {
        if let Some(set) = self.capabilities {
            capabilities::settle(set)?;
        }
        if self.no_new_privileges {
            // SAFETY: prctl(PR_SET_NO_NEW_PRIVS) takes integers and touches
            // no memory.
            if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                return Err(format!(
                    "prctl(PR_SET_NO_NEW_PRIVS): {}",
                    std::io::Error::last_os_error()
                ));
            }
            // With no_new_privs, no capability is needed to load it.
            self.load_seccomp()?;
        }
        Ok(())
    }
    // ANCHOR_END: after_user

    fn load_seccomp(&self) -> Result<(), String> {
        match &self.seccomp {
            Some(filter) => filter
                .load()
                .map_err(|e| format!("cannot load the seccomp filter: {e}")),
            None => Ok(()),
        }
    }
}
