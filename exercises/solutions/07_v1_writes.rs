//! Reference solution for exercise 07: the cgroup v1 writes for some limits.

use cratebox_cgroups::limits::{LimitError, Swap};
use cratebox_cgroups::plan::{V1Host, Write};
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

/// The error for `--memory-swap` on a host without swap accounting, word
/// for word as cratebox gives it.
pub fn no_swap_accounting() -> LimitError {
    LimitError {
        flag: "--memory-swap",
        value: "set".to_string(),
        expected: "this kernel does not account swap (no memory.memsw.* files): boot with swapaccount=1 or leave --memory-swap out",
    }
}

/// The writes that put `limits` on a container's cgroup v1 directories, in
/// this order, each only when its limit is set:
///
/// - `-m`: `memory.limit_in_bytes`, then `memory.memsw.limit_in_bytes`
///   (below);
/// - `--cpus`: `cpu.cfs_period_us`, then `cpu.cfs_quota_us`;
/// - `--cpu-shares`: `cpu.shares`, as given;
/// - `--pids-limit`: `pids.max`;
/// - `--cpuset-cpus`: `cpuset.cpus`, then `cpuset.mems` from `host`.
///
/// `memory.memsw.limit_in_bytes` counts memory plus swap, as docker's
/// `--memory-swap` does, so with `-m M`:
///
/// - `--memory-swap T` ([`Swap::Total`]) writes `T`;
/// - `--memory-swap -1` ([`Swap::Unlimited`]) writes `-1`, v1's "no limit";
/// - no `--memory-swap` is docker's default, as much swap as memory: `2M`,
///   a write that is not required (`required: false`).
///
/// The memsw files exist only when the kernel accounts swap
/// (`host.swap_accounting`). Without them the default is left out, but a
/// `--memory-swap` that was asked for cannot be honoured: that is
/// [`no_swap_accounting`], and no writes at all.
///
/// The limits have passed `cratebox_cgroups::plan::check`: swap is never
/// set without memory, and a swap total is never below the memory.
pub fn v1_writes(limits: &Limits, host: &V1Host) -> Result<Vec<Write>, LimitError> {
    let mut writes = Vec::new();
    if let Some(memory) = limits.memory {
        writes.push(write("memory", "memory.limit_in_bytes", memory));
        let memsw = "memory.memsw.limit_in_bytes";
        match (limits.memory_swap, host.swap_accounting) {
            (Some(Swap::Total(total)), true) => writes.push(write("memory", memsw, total)),
            (Some(Swap::Unlimited), true) => writes.push(write("memory", memsw, -1)),
            // Asked for, and impossible here: say so rather than run the
            // container with more swap than it asked for.
            (Some(_), false) => return Err(no_swap_accounting()),
            (None, true) => writes.push(Write {
                required: false,
                ..write("memory", memsw, memory * 2)
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
