// ANCHOR: stale
//! Cleaning up after crashed runs.
//!
//! Every container's cgroup is named `<pid>-<n>`, after the process that
//! supervises it. If that process is gone, nobody will ever remove the
//! cgroup, so the next run does: it kills whatever is still inside and
//! removes the directory.

use std::path::Path;

use cratebox_sandbox::process::is_alive;
use nix::unistd::Pid;

use crate::detect::Hierarchies;
use crate::fs::remove_dir;
use crate::PARENT;

// ANCHOR: remove_stale
/// The supervisor pid a cgroup name starts with, if it is one of ours.
pub fn owner(name: &str) -> Option<Pid> {
    let (pid, counter) = name.split_once('-')?;
    counter.parse::<u32>().ok()?;
    pid.parse().ok().map(Pid::from_raw)
}

/// True when the cgroup's supervisor no longer exists.
fn gone(pid: Pid) -> bool {
    u32::try_from(pid.as_raw()).is_ok_and(|pid| !is_alive(pid))
}

/// Remove every `cratebox/<pid>-<n>` cgroup, in every hierarchy, whose
/// supervisor has exited. Returns how many were removed.
pub fn remove_stale(hierarchies: &Hierarchies) -> usize {
    let mut roots: Vec<&Path> = hierarchies.v1.values().map(|p| p.as_path()).collect();
    roots.extend(hierarchies.v2.iter().map(|v2| v2.path.as_path()));
    roots.sort();
    roots.dedup();
    let mut removed = 0;
    for root in roots {
        let Ok(entries) = std::fs::read_dir(root.join(PARENT)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir()
                && owner(&name).is_some_and(gone)
                && remove_dir(&entry.path()).is_ok()
            {
                removed += 1;
            }
        }
    }
    removed
}
// ANCHOR_END: remove_stale

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_their_owner() {
        assert_eq!(owner("4242-0"), Some(Pid::from_raw(4242)));
        assert_eq!(owner("system.slice"), None);
        assert_eq!(owner("4242"), None);
        assert_eq!(owner("4242-x"), None);
    }
}
// ANCHOR_END: stale
