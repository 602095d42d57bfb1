//! Exercise 06's tests: the cgroup v2 writes for many sets of docker flags,
//! as `echo VALUE > FILE` lines, and the very same writes as cratebox's own
//! plan.

#[cfg(not(feature = "solution"))]
use ex06_v2_writes as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/06_v2_writes.rs"]
mod subject;

use cratebox_cgroups::limits::{
    parse_cpus, parse_cpuset, parse_memory, parse_pids, parse_shares, parse_swap,
};
use cratebox_cgroups::plan::{self, check};
use cratebox_cgroups::Limits;
use subject::{shares_to_weight, v2_writes};

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

/// For each set of flags, the flags and then one line per write.
fn table(sets: &[&str]) -> String {
    let mut out = String::new();
    for flags in sets {
        out += &format!("{flags}\n");
        for write in v2_writes(&limits(flags)) {
            out += &format!("  {:<7} {write}\n", write.controller);
        }
    }
    out
}

#[test]
fn memory_and_docker_swap_rules() {
    insta::assert_snapshot!(table(MEMORY));
}

#[test]
fn cpu_quota_and_weight() {
    insta::assert_snapshot!(table(CPU));
}

#[test]
fn pids_and_cpuset() {
    insta::assert_snapshot!(table(PIDS_AND_CPUSET));
}

#[test]
fn every_flag_at_once() {
    insta::assert_snapshot!(table(&[EVERYTHING]));
}

#[test]
fn nothing_asked_nothing_written() {
    assert_eq!(v2_writes(&Limits::default()), Vec::new());
}

#[test]
fn shares_on_the_weight_scale() {
    let shares = [
        2, 3, 10, 100, 512, 1024, 2048, 10_000, 131_073, 262_143, 262_144,
    ];
    let lines: String = shares
        .iter()
        .map(|s| format!("cpu.shares {s:>6} -> cpu.weight {}\n", shares_to_weight(*s)))
        .collect();
    insta::assert_snapshot!(lines);
}

#[test]
fn same_weights_as_cratebox() {
    for shares in (2..=262_144).step_by(97).chain([262_144]) {
        assert_eq!(
            shares_to_weight(shares),
            plan::shares_to_weight(shares),
            "cpu.shares {shares}"
        );
    }
}

#[test]
fn same_writes_as_cratebox() {
    let sets = MEMORY.iter().chain(CPU).chain(PIDS_AND_CPUSET);
    for flags in sets.chain(&[EVERYTHING, ""]) {
        let limits = limits(flags);
        assert_eq!(
            v2_writes(&limits),
            plan::v2_writes(&limits),
            "flags {flags:?}"
        );
    }
}
