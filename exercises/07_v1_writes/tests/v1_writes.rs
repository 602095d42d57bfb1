//! Exercise 07's tests: the cgroup v1 writes for many sets of docker flags,
//! on hosts with and without swap accounting, and the very same result as
//! cratebox's own plan.

#[cfg(not(feature = "solution"))]
use ex07_v1_writes as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/07_v1_writes.rs"]
mod subject;

use cratebox_cgroups::limits::{
    parse_cpus, parse_cpuset, parse_memory, parse_pids, parse_shares, parse_swap,
};
use cratebox_cgroups::plan::{self, check, V1Host};
use cratebox_cgroups::Limits;
use subject::v1_writes;

const MEMORY: &[&str] = &[
    "-m 32m",
    "-m 1g --memory-swap 3g",
    "-m 1g --memory-swap 1g",
    "-m 512m --memory-swap -1",
];

const CPU: &[&str] = &[
    "--cpus 1.5",
    "--cpus 0.01",
    "--cpu-shares 512",
    "--cpus 2 --cpu-shares 2048",
];

const PIDS_AND_CPUSET: &[&str] = &[
    "--pids-limit 20",
    "--cpuset-cpus 0-1",
    "--cpuset-cpus 0,2-3",
];

const EVERYTHING: &str =
    "-m 32m --memory-swap 64m --cpus 1.5 --cpu-shares 512 --pids-limit 20 --cpuset-cpus 0-1";

/// A typical host: swap accounting on, one memory node.
fn host() -> V1Host {
    V1Host {
        swap_accounting: true,
        cpuset_mems: "0".to_string(),
    }
}

/// A host whose kernel does not account swap (booted without
/// swapaccount=1, as some distributions did by default).
fn without_swap_accounting() -> V1Host {
    V1Host {
        swap_accounting: false,
        ..host()
    }
}

/// A NUMA machine with two memory nodes.
fn two_nodes() -> V1Host {
    V1Host {
        cpuset_mems: "0-1".to_string(),
        ..host()
    }
}

/// The limits docker flags ask for, e.g. `"-m 1g --memory-swap 3g"`, parsed
/// and checked by cratebox itself.
fn limits(flags: &str) -> Limits {
    let mut limits = Limits::default();
    let mut words = flags.split_whitespace();
    while let Some(flag) = words.next() {
        let value = words.next().expect("every flag has a value");
        match flag {
            "-m" => limits.memory = Some(parse_memory(value).expect(flags)),
            "--memory-swap" => limits.memory_swap = Some(parse_swap(value).expect(flags)),
            "--cpus" => limits.cpus = Some(parse_cpus(value).expect(flags)),
            "--cpu-shares" => limits.cpu_shares = Some(parse_shares(value).expect(flags)),
            "--pids-limit" => limits.pids = Some(parse_pids(value).expect(flags)),
            "--cpuset-cpus" => {
                limits.cpuset_cpus = Some(parse_cpuset(value, 64).expect(flags));
            }
            _ => panic!("{flags}: no such flag {flag}"),
        }
    }
    check(&limits).unwrap_or_else(|error| panic!("{flags}: {error}"));
    limits
}

/// For each set of flags, the flags and then one line per write, or the
/// error.
fn table(sets: &[&str], host: &V1Host) -> String {
    let mut out = String::new();
    for flags in sets {
        out += &format!("{flags}\n");
        match v1_writes(&limits(flags), host) {
            Ok(writes) => {
                for write in writes {
                    out += &format!("  {:<7} {write}\n", write.controller);
                }
            }
            Err(error) => out += &format!("  error: {error}\n"),
        }
    }
    out
}

#[test]
fn memory_and_swap_with_swap_accounting() {
    insta::assert_snapshot!(table(MEMORY, &host()));
}

#[test]
fn memory_and_swap_without_swap_accounting() {
    insta::assert_snapshot!(table(MEMORY, &without_swap_accounting()));
}

#[test]
fn cpu_period_quota_and_shares() {
    insta::assert_snapshot!(table(CPU, &host()));
}

#[test]
fn pids_and_cpuset_on_one_and_two_memory_nodes() {
    let one = table(PIDS_AND_CPUSET, &host());
    let two = table(PIDS_AND_CPUSET, &two_nodes());
    insta::assert_snapshot!(format!("one memory node:\n{one}\ntwo memory nodes:\n{two}"));
}

#[test]
fn every_flag_at_once() {
    insta::assert_snapshot!(table(&[EVERYTHING], &host()));
}

#[test]
fn nothing_asked_nothing_written() {
    assert_eq!(v1_writes(&Limits::default(), &host()), Ok(Vec::new()));
}

#[test]
fn same_result_as_cratebox() {
    let sets = MEMORY.iter().chain(CPU).chain(PIDS_AND_CPUSET);
    for flags in sets.chain(&[EVERYTHING, ""]) {
        let limits = limits(flags);
        for host in [host(), without_swap_accounting(), two_nodes()] {
            assert_eq!(
                v1_writes(&limits, &host),
                plan::v1_writes(&limits, &host),
                "flags {flags:?} on {host:?}"
            );
        }
    }
}
