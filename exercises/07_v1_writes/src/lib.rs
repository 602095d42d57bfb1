//! # Exercise 07: the files to write, cgroup v1
//!
//! cgroup v1 is the older interface, and still what many hosts run. Each
//! controller has a hierarchy of its own (`/sys/fs/cgroup/memory/...`,
//! `/sys/fs/cgroup/cpu/...`), so a container's cgroup is one directory per
//! controller, and the files are named after v1's own units:
//!
//! | flag | file | value |
//! |---|---|---|
//! | `-m` | `memory.limit_in_bytes` | bytes |
//! | `-m` (and `--memory-swap`) | `memory.memsw.limit_in_bytes` | bytes of memory plus swap, or `-1` |
//! | `--cpus` | `cpu.cfs_period_us`, `cpu.cfs_quota_us` | µs, one number per file |
//! | `--cpu-shares` | `cpu.shares` | the shares themselves |
//! | `--pids-limit` | `pids.max` | processes |
//! | `--cpuset-cpus` | `cpuset.cpus`, `cpuset.mems` | a CPU list, the host's memory nodes |
//!
//! The order matters here. The kernel refuses a memsw limit below the memory
//! limit, so `memory.limit_in_bytes` goes first; the quota is checked
//! against the period, so the period goes first; and a new v1 cpuset has no
//! CPUs and no memory nodes at all, and takes no process until both are set.
//!
//! Write the list as `cratebox_cgroups::plan::v1_writes` does.
//!
//! Run `cargo ex check 07_v1_writes` until it passes.

// The parameters and imports are unused until the `todo!()` is replaced.
#![allow(unused_variables, unused_imports)]

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
    // TODO: memory.limit_in_bytes when limits.memory is set.
    // TODO: then decide memsw from limits.memory_swap and
    //       host.swap_accounting: four cases, one of them the error.
    // TODO: cpu.cfs_period_us and cpu.cfs_quota_us from limits.cpus.
    // TODO: cpu.shares, pids.max, then cpuset.cpus and cpuset.mems.
    todo!("list the cgroup v1 writes for these limits on this host")
}
