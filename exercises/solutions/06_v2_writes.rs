//! Reference solution for exercise 06: the cgroup v2 writes for some limits.

use cratebox_cgroups::limits::Swap;
use cratebox_cgroups::plan::Write;
use cratebox_cgroups::Limits;

/// A required write of `value` to `file`, a file of `controller`: if the
/// kernel lacks the file or refuses the value, the container does not start.
pub fn write(controller: &'static str, file: &'static str, value: impl ToString) -> Write {
    Write {
        controller,
        file,
        value: value.to_string(),
        required: true,
    }
}

/// `--cpu-shares` (cgroup v1's cpu.shares: 2 to 262144, default 1024) on
/// cgroup v2's cpu.weight scale (1 to 10000, default 100).
///
/// The map is runc's: the straight line through (2, 1) and (262144, 10000),
/// in whole numbers, rounding down. Shares below 2 count as 2.
pub fn shares_to_weight(shares: u64) -> u64 {
    // 9999 steps of weight over 262142 steps of shares. Dividing last keeps
    // the precision: 9999 / 262142 alone is 0 in whole numbers.
    1 + shares.saturating_sub(2) * 9999 / 262_142
}

/// The writes that put `limits` on a cgroup v2 directory, in this order,
/// each only when its limit is set:
///
/// - `-m`: `memory.max`, then `memory.swap.max` (below);
/// - `--cpus`: `cpu.max`, the quota and the period separated by a space;
/// - `--cpu-shares`: `cpu.weight`, through [`shares_to_weight`];
/// - `--pids-limit`: `pids.max`;
/// - `--cpuset-cpus`: `cpuset.cpus`, as given.
///
/// docker's `--memory-swap` is a total, memory plus swap; v2's
/// `memory.swap.max` counts swap alone. So, with `-m M`:
///
/// - `--memory-swap T` ([`Swap::Total`]) allows `T - M` bytes of swap;
/// - `--memory-swap -1` ([`Swap::Unlimited`]) allows any: `max`;
/// - no `--memory-swap` is docker's default, as much swap as memory: `M`.
///   Nobody asked for it, so that write is not required (`required:
///   false`): a kernel without swap accounting has no `memory.swap.max`,
///   and the container should run there all the same.
///
/// The limits have passed `cratebox_cgroups::plan::check`: swap is never
/// set without memory, and a swap total is never below the memory.
pub fn v2_writes(limits: &Limits) -> Vec<Write> {
    let mut writes = Vec::new();
    if let Some(memory) = limits.memory {
        writes.push(write("memory", "memory.max", memory));
        writes.push(match limits.memory_swap {
            // docker's total is memory plus swap; v2 wants the swap alone.
            Some(Swap::Total(total)) => write("memory", "memory.swap.max", total - memory),
            Some(Swap::Unlimited) => write("memory", "memory.swap.max", "max"),
            // docker's default, as much swap as memory: derived, not asked
            // for, so skipped where the kernel has no swap accounting.
            None => Write {
                required: false,
                ..write("memory", "memory.swap.max", memory)
            },
        });
    }
    if let Some(cpus) = limits.cpus {
        let value = format!("{} {}", cpus.quota_us, cpus.period_us);
        writes.push(write("cpu", "cpu.max", value));
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
