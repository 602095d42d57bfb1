//! Which files to write for a set of limits: the whole difference between
//! cgroup v1 and v2, as data.
//!
//! A cgroup is a directory; a limit is a value written to a file in it. The
//! two versions of the interface name the files differently and sometimes
//! count differently (v1's cpu.shares vs v2's cpu.weight), so each gets a
//! pure function from [`Limits`] to a list of [`Write`]s. The managers in
//! `v1` and `v2` only carry the list out.

use std::collections::BTreeSet;
use std::fmt;

use crate::limits::{LimitError, Limits, Swap};

/// One value written to one file of a cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The controller the file belongs to (in v1, which hierarchy).
    pub controller: &'static str,
    /// The file name inside the cgroup directory.
    pub file: &'static str,
    /// What to write.
    pub value: String,
    /// False for values we derive rather than were asked for (docker's
    /// default swap): skipped when the kernel lacks the file, where an
    /// explicit request would be an error.
    pub required: bool,
}

impl fmt::Display for Write {
    /// `echo VALUE > FILE`, the way you would do it by hand.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "echo {} > {}", self.value, self.file)?;
        if !self.required {
            write!(f, "   (if the kernel has it)")?;
        }
        Ok(())
    }
}

fn write(controller: &'static str, file: &'static str, value: impl ToString) -> Write {
    Write {
        controller,
        file,
        value: value.to_string(),
        required: true,
    }
}

/// The controllers the limits need; without one of them a limit cannot be
/// enforced, and we refuse rather than run the container unlimited.
pub fn required_controllers(limits: &Limits) -> BTreeSet<&'static str> {
    let mut needed = BTreeSet::new();
    if limits.memory.is_some() || limits.memory_swap.is_some() {
        needed.insert("memory");
    }
    if limits.cpus.is_some() || limits.cpu_shares.is_some() {
        needed.insert("cpu");
    }
    if limits.pids.is_some() {
        needed.insert("pids");
    }
    if limits.cpuset_cpus.is_some() {
        needed.insert("cpuset");
    }
    needed
}

/// Limits that make sense together, as docker checks them.
pub fn check(limits: &Limits) -> Result<(), LimitError> {
    match (limits.memory, limits.memory_swap) {
        (None, Some(_)) => Err(LimitError {
            flag: "--memory-swap",
            value: "set".to_string(),
            expected: "--memory-swap limits memory plus swap, so it needs --memory too",
        }),
        (Some(memory), Some(Swap::Total(total))) if total < memory => Err(LimitError {
            flag: "--memory-swap",
            value: total.to_string(),
            expected: "memory plus swap must be at least --memory",
        }),
        _ => Ok(()),
    }
}

// ANCHOR: shares_to_weight
/// cgroup v1's cpu.shares (2..262144, default 1024) on v2's cpu.weight
/// scale (1..10000, default 100), by the same linear map runc uses.
pub fn shares_to_weight(shares: u64) -> u64 {
    1 + (shares.saturating_sub(2) * 9999) / 262_142
}
// ANCHOR_END: shares_to_weight

// ANCHOR: v2_writes
/// The writes for cgroup v2: one directory, every controller's files in it.
pub fn v2_writes(limits: &Limits) -> Vec<Write> {
    let mut writes = Vec::new();
    if let Some(memory) = limits.memory {
        writes.push(write("memory", "memory.max", memory));
        // v2 counts swap on its own; docker's --memory-swap counts memory
        // plus swap, and without it allows as much swap as memory.
        writes.push(match limits.memory_swap {
            Some(Swap::Total(total)) => write("memory", "memory.swap.max", total - memory),
            Some(Swap::Unlimited) => write("memory", "memory.swap.max", "max"),
            None => Write {
                required: false,
                ..write("memory", "memory.swap.max", memory)
            },
        });
    }
    if let Some(cpus) = limits.cpus {
        writes.push(write(
            "cpu",
            "cpu.max",
            format!("{} {}", cpus.quota_us, cpus.period_us),
        ));
    }
    if let Some(shares) = limits.cpu_shares {
        writes.push(write("cpu", "cpu.weight", shares_to_weight(shares)));
    }
    if let Some(pids) = limits.pids {
        writes.push(write("pids", "pids.max", pids));
    }
    if let Some(cpus) = &limits.cpuset_cpus {
        writes.push(write("cpuset", "cpuset.cpus", cpus));
    }
    writes
}
// ANCHOR_END: v2_writes

/// What a v1 plan needs to know about the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Host {
    /// Whether memory.memsw.* exist (swap accounting is on).
    pub swap_accounting: bool,
    /// The parent cpuset's memory nodes: a v1 cpuset starts with none, and
    /// no process can join it until cpuset.mems is set.
    pub cpuset_mems: String,
}

// ANCHOR: v1_writes
/// The writes for cgroup v1: each controller has its own hierarchy, and the
/// files are named after v1's older units.
pub fn v1_writes(limits: &Limits, host: &V1Host) -> Result<Vec<Write>, LimitError> {
    let mut writes = Vec::new();
    if let Some(memory) = limits.memory {
        // limit_in_bytes first: memsw may never be below it.
        writes.push(write("memory", "memory.limit_in_bytes", memory));
        let memsw = match limits.memory_swap {
            Some(Swap::Total(total)) => Some(write("memory", "memory.memsw.limit_in_bytes", total)),
            Some(Swap::Unlimited) => Some(write("memory", "memory.memsw.limit_in_bytes", -1)),
            None => None,
        };
        match (memsw, host.swap_accounting) {
            (Some(memsw), true) => writes.push(memsw),
            (Some(_), false) => {
                return Err(LimitError {
                    flag: "--memory-swap",
                    value: "set".to_string(),
                    expected: "this kernel does not account swap (no memory.memsw.* files): boot with swapaccount=1 or leave --memory-swap out",
                })
            }
            (None, true) => writes.push(Write {
                required: false,
                ..write("memory", "memory.memsw.limit_in_bytes", memory * 2)
            }),
            (None, false) => {}
        }
    }
    if let Some(cpus) = limits.cpus {
        writes.push(write("cpu", "cpu.cfs_period_us", cpus.period_us));
        writes.push(write("cpu", "cpu.cfs_quota_us", cpus.quota_us));
    }
    if let Some(shares) = limits.cpu_shares {
        writes.push(write("cpu", "cpu.shares", shares));
    }
    if let Some(pids) = limits.pids {
        writes.push(write("pids", "pids.max", pids));
    }
    if let Some(cpus) = &limits.cpuset_cpus {
        writes.push(write("cpuset", "cpuset.cpus", cpus));
        writes.push(write("cpuset", "cpuset.mems", &host.cpuset_mems));
    }
    Ok(writes)
}
// ANCHOR_END: v1_writes

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{parse_cpus, parse_swap};

    fn everything() -> Limits {
        Limits {
            memory: Some(32 << 20),
            memory_swap: None,
            cpus: Some(parse_cpus("1.5").unwrap()),
            cpu_shares: Some(512),
            pids: Some(20),
            cpuset_cpus: Some("0-1".to_string()),
            collect_stats: false,
        }
    }

    fn render(writes: &[Write]) -> String {
        writes
            .iter()
            .map(|w| format!("{:<7} {w}\n", w.controller))
            .collect()
    }

    #[test]
    fn v2_files_for_every_flag() {
        insta::assert_snapshot!(render(&v2_writes(&everything())));
    }

    #[test]
    fn v1_files_for_every_flag() {
        let host = V1Host {
            swap_accounting: true,
            cpuset_mems: "0".to_string(),
        };
        insta::assert_snapshot!(render(&v1_writes(&everything(), &host).unwrap()));
    }

    #[test]
    fn swap_forms() {
        let mut limits = Limits {
            memory: Some(1 << 30),
            ..Limits::default()
        };
        limits.memory_swap = Some(parse_swap("3g").unwrap());
        assert_eq!(v2_writes(&limits)[1].value, (2u64 << 30).to_string());
        limits.memory_swap = Some(Swap::Unlimited);
        assert_eq!(v2_writes(&limits)[1].value, "max");
        let no_swap_accounting = V1Host {
            swap_accounting: false,
            cpuset_mems: "0".into(),
        };
        assert!(v1_writes(&limits, &no_swap_accounting).is_err());
        limits.memory_swap = None;
        assert_eq!(v1_writes(&limits, &no_swap_accounting).unwrap().len(), 1);
    }

    #[test]
    fn nothing_asked_nothing_written_and_no_controller_needed() {
        let host = V1Host {
            swap_accounting: true,
            cpuset_mems: "0".into(),
        };
        assert!(v2_writes(&Limits::default()).is_empty());
        assert!(v1_writes(&Limits::default(), &host).unwrap().is_empty());
        assert!(required_controllers(&Limits::default()).is_empty());
        assert_eq!(required_controllers(&everything()).len(), 4);
    }

    #[test]
    fn shares_map_like_runc() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
    }

    #[test]
    fn swap_needs_memory_and_must_cover_it() {
        let swap_only = Limits {
            memory_swap: Some(Swap::Unlimited),
            ..Limits::default()
        };
        assert!(check(&swap_only).is_err());
        let too_small = Limits {
            memory: Some(64 << 20),
            memory_swap: Some(Swap::Total(32 << 20)),
            ..Limits::default()
        };
        assert!(check(&too_small).is_err());
    }
}
