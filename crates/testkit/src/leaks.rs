//! What a container test could leave on the host (mounts, network
//! namespaces, cgroups, processes), looked at before and after; and the
//! reaper that kills what a failed test left running.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Kills what still runs from a test's state root when the test ends
/// without [`TestEnv::finish`] (a failed assertion panics past the test's
/// own `rm -f`): a detached container's supervisor would otherwise run on,
/// with its container, after the test and its temp dir are gone. Its
/// container dies with it (its init has PDEATHSIG), and its mounts with
/// its mount namespace.
#[derive(Debug)]
pub(crate) struct Reaper(pub(crate) PathBuf);

impl Drop for Reaper {
    fn drop(&mut self) {
        for _ in 0..100 {
            let left = processes_rooted_in(&self.0);
            if left.is_empty() {
                remove_orphaned_cgroups();
                return;
            }
            for pid in left {
                if let Ok(pid) = pid.parse::<i32>() {
                    // SAFETY: kill(2) with a pid and a signal touches no memory.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// Remove cratebox's cgroups (`cratebox/<pid>-<n>`, chapter 3) whose
/// supervisor is gone, as the next container's start would: what a killed
/// supervisor could not remove. Waits up to a second for the supervisors
/// just killed to be reaped.
fn remove_orphaned_cgroups() {
    for _ in 0..50 {
        let mut waiting = false;
        let children = cratebox_cgroups()
            .into_iter()
            .filter(|dir| dir.ends_with("/cratebox"))
            .flat_map(|dir| fs::read_dir(dir).into_iter().flatten().flatten())
            .filter(|entry| entry.path().is_dir());
        for entry in children {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .split_once('-')
                .and_then(|(pid, _)| pid.parse::<i32>().ok())
            else {
                continue;
            };
            // Alive: its stat says so, and not `Z` (ended, not yet reaped).
            let alive = fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let (_, rest) = stat.rsplit_once(')')?;
                    rest.split_whitespace().next().map(|state| state != "Z")
                })
                .unwrap_or(false);
            // Its container's processes may still be on their way out
            // (busy): try again.
            if alive || fs::remove_dir(&path).is_err() {
                waiting = true;
            }
        }
        if !waiting {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A picture of host state that a container test could leak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakCheck {
    mounts: BTreeSet<String>,
    netns: BTreeSet<String>,
    cgroups: BTreeSet<String>,
}

impl LeakCheck {
    /// Look at the host now.
    pub fn take() -> LeakCheck {
        LeakCheck {
            mounts: mount_points(),
            netns: named_netns(),
            cgroups: cratebox_cgroups(),
        }
    }

    /// Panic if anything appeared since [`LeakCheck::take`], or if any
    /// mount or process still refers to `dir`.
    pub fn assert_nothing_new(&self, dir: &Path) {
        let now = LeakCheck::take();
        let new = |before: &BTreeSet<String>, after: &BTreeSet<String>| -> Vec<String> {
            after.difference(before).cloned().collect()
        };
        let dir_text = dir.to_string_lossy();
        let mounts: Vec<String> = now
            .mounts
            .iter()
            .filter(|m| !self.mounts.contains(*m) || m.starts_with(dir_text.as_ref()))
            .cloned()
            .collect();
        assert!(mounts.is_empty(), "leaked mounts: {mounts:?}");
        assert!(
            new(&self.netns, &now.netns).is_empty(),
            "leaked network namespaces: {:?}",
            new(&self.netns, &now.netns)
        );
        assert!(
            new(&self.cgroups, &now.cgroups).is_empty(),
            "leaked cgroups: {:?}",
            new(&self.cgroups, &now.cgroups)
        );
        let procs = processes_rooted_in(dir);
        assert!(
            procs.is_empty(),
            "processes still running in {}: {procs:?}",
            dir.display()
        );
    }
}

/// Mount points of the host's mount namespace.
fn mount_points() -> BTreeSet<String> {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_whitespace().nth(4).map(str::to_string))
        .collect()
}

/// Named network namespaces (`ip netns add`).
fn named_netns() -> BTreeSet<String> {
    fs::read_dir("/run/netns")
        .map(|dir| {
            dir.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Every cgroup whose name mentions cratebox, in any hierarchy.
fn cratebox_cgroups() -> BTreeSet<String> {
    fn walk(dir: &Path, depth: usize, found: &mut BTreeSet<String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                continue;
            }
            if entry.file_name().to_string_lossy().contains("cratebox") {
                found.insert(path.to_string_lossy().into_owned());
            }
            if depth > 0 {
                walk(&path, depth - 1, found);
            }
        }
    }
    let mut found = BTreeSet::new();
    walk(Path::new("/sys/fs/cgroup"), 4, &mut found);
    found
}

/// Pids of processes using `dir`: their root or working directory is in it
/// (a chroot), one of their mounts comes from it (after pivot_root the
/// root link reads "/", but mountinfo still names the source directory),
/// or it is their state root (a container's supervisor).
fn processes_rooted_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let dir_text = dir.to_string_lossy().into_owned();
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            let linked = ["root", "cwd"].iter().any(|link| {
                fs::read_link(e.path().join(link))
                    .map(|target| target.starts_with(dir))
                    .unwrap_or(false)
            });
            // A supervisor (chapter 6) is told its state root in its
            // environment.
            let supervising = fs::read(e.path().join("environ"))
                .map(|environ| {
                    environ
                        .split(|&b| b == 0)
                        .any(|var| var == format!("CRATEBOX_ROOT={dir_text}").as_bytes())
                })
                .unwrap_or(false);
            linked
                || supervising
                || fs::read_to_string(e.path().join("mountinfo"))
                    .map(|m| m.contains(&dir_text))
                    .unwrap_or(false)
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// True when a process named `comm` runs with its root inside `dir`: the
/// way a test knows a container has started its command.
pub fn command_running_in(dir: &Path, comm: &str) -> bool {
    processes_rooted_in(dir).iter().any(|pid| {
        fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|c| c.trim() == comm)
            .unwrap_or(false)
    })
}
