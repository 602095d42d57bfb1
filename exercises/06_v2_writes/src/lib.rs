//! # Exercise 06: the files to write, cgroup v2
//!
//! On cgroup v2 a container's cgroup is one directory, and each limit is a
//! number written to one file in it. Given the limits parsed from docker's
//! flags, list the writes, as `cratebox_cgroups::plan::v2_writes` does:
//!
//! | flag | file | value |
//! |---|---|---|
//! | `-m` | `memory.max` | bytes |
//! | `-m` (and `--memory-swap`) | `memory.swap.max` | bytes of swap, or `max` |
//! | `--cpus` | `cpu.max` | `QUOTA PERIOD`, in µs |
//! | `--cpu-shares` | `cpu.weight` | the shares, on v2's scale |
//! | `--pids-limit` | `pids.max` | processes |
//! | `--cpuset-cpus` | `cpuset.cpus` | a CPU list such as `0-1` |
//!
//! Swap is the subtle one: docker counts it one way, v2 another. The doc
//! comment of [`v2_writes`] has the rules.
//!
//! Run `cargo ex check 06_v2_writes` until it passes.

// The parameters and imports are unused until the `todo!()`s are replaced.
#![allow(unused_variables, unused_imports)]

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
    // TODO: 2 -> 1 and 262144 -> 10000, a straight line between them.
    //       Multiply before dividing, or the steps vanish in the rounding.
    todo!("map cpu.shares onto cpu.weight")
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
    // TODO: memory.max and memory.swap.max when limits.memory is set; match
    //       on limits.memory_swap for the swap value and whether it is
    //       required.
    // TODO: cpu.max as "QUOTA PERIOD" from limits.cpus.
    // TODO: cpu.weight from limits.cpu_shares.
    // TODO: pids.max and cpuset.cpus.
    todo!("list the cgroup v2 writes for these limits")
}
