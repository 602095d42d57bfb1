//! Exercise 05's tests: a table of sizes and CPU counts with what each
//! becomes, and agreement with cratebox's own parsers on every valid value.

#[cfg(not(feature = "solution"))]
use ex05_parse_limits as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/05_parse_limits.rs"]
mod subject;

use cratebox_cgroups::limits;
use subject::{parse_cpus, parse_size, CPU_PERIOD_US};

/// Sizes docker accepts, in every spelling of every unit.
const GOOD_SIZES: &[&str] = &[
    "1", "1024", "1b", "512k", "512K", "512kb", "512KiB", "32m", "32M", "32mb", "32MB", "32mib",
    "32MiB", "1g", "1.5g", "0.5G", ".25g", "0.1k", "2t", "8388607t", "  64m\n",
];

/// Values that are not sizes, or not sizes a limit can be.
const BAD_SIZES: &[&str] = &[
    "",
    "   ",
    "m",
    "kb",
    "lots",
    "-5m",
    "+5m",
    "32x",
    "32 m",
    "32mibb",
    "32ki",
    "1.2.3m",
    "1e3",
    "inf",
    "nan",
    "1,5g",
    "0",
    "0g",
    "0.0001k",
    "0.5",
    "8388608t",
    "99999999t",
];

const GOOD_CPUS: &[&str] = &[
    "1", "2", "64", "1.5", "0.5", "0.25", "0.01", "0.015", "0.009996", " 4 ", "1e0",
];

const BAD_CPUS: &[&str] = &[
    "", "half", "1,5", "inf", "NaN", "0", "-0", "-1", "-0.5", "0.001", "0.0049", "0.00999", "1e-3",
];

/// One line per value: the value, then the bytes or the error.
fn size_table(values: &[&str]) -> String {
    values
        .iter()
        .map(|value| {
            let quoted = format!("{value:?}");
            match parse_size(value) {
                Ok(bytes) => format!("{quoted:>12} -> {bytes}\n"),
                Err(error) => format!("{quoted:>12} -> error: {error}\n"),
            }
        })
        .collect()
}

/// One line per value: the value, then the quota and period or the error.
fn cpus_table(values: &[&str]) -> String {
    values
        .iter()
        .map(|value| {
            let quoted = format!("{value:?}");
            match parse_cpus(value) {
                Ok((quota, period)) => format!("{quoted:>10} -> {quota} µs every {period} µs\n"),
                Err(error) => format!("{quoted:>10} -> error: {error}\n"),
            }
        })
        .collect()
}

#[test]
fn sizes_in_every_unit() {
    insta::assert_snapshot!(size_table(GOOD_SIZES));
}

#[test]
fn values_that_are_not_sizes() {
    insta::assert_snapshot!(size_table(BAD_SIZES));
}

#[test]
fn cpus_become_a_quota_per_period() {
    insta::assert_snapshot!(cpus_table(GOOD_CPUS));
}

#[test]
fn values_that_are_not_cpus() {
    insta::assert_snapshot!(cpus_table(BAD_CPUS));
}

#[test]
fn agrees_with_cratebox_on_valid_sizes() {
    for value in GOOD_SIZES {
        assert_eq!(
            parse_size(value).ok(),
            limits::parse_size("--memory", value).ok(),
            "size {value:?}"
        );
    }
}

#[test]
fn agrees_with_cratebox_on_valid_cpus() {
    assert_eq!(CPU_PERIOD_US, limits::CPU_PERIOD_US);
    for value in GOOD_CPUS {
        let theirs = limits::parse_cpus(value).expect("cratebox accepts it too");
        assert_eq!(
            parse_cpus(value).ok(),
            Some((theirs.quota_us, theirs.period_us)),
            "--cpus {value:?}"
        );
    }
}
