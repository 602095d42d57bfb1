//! The limits a container asks for, parsed from docker-style flag values.
//!
//! Everything here is pure: a string in, a number or a clear error out. The
//! forms are docker's, so `-m 512m`, `--cpus 1.5` and `--cpuset-cpus 0-2,4`
//! mean here what they mean there.

use thiserror::Error;

/// What to limit. `None` means "no limit": nothing is written for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    /// `-m/--memory`: bytes of memory.
    pub memory: Option<u64>,
    /// `--memory-swap`: memory plus swap, in bytes, or unlimited swap.
    pub memory_swap: Option<Swap>,
    /// `--cpus`: CPU time per period.
    pub cpus: Option<CpuQuota>,
    /// `--cpu-shares`: relative weight when CPUs are contended (default 1024).
    pub cpu_shares: Option<u64>,
    /// `--pids-limit`: how many processes and threads at once.
    pub pids: Option<u64>,
    /// `--cpuset-cpus`: which CPUs, in the kernel's list format ("0-2,4").
    pub cpuset_cpus: Option<String>,
    /// `--stats`: join the memory, cpu and pids controllers even where no
    /// limit is set in them, to read back what the container used.
    pub collect_stats: bool,
}

/// `--memory-swap`: a total for memory plus swap, or `-1` for no swap limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Swap {
    /// Memory plus swap may not exceed this many bytes.
    Total(u64),
    /// Swap is not limited.
    Unlimited,
}

/// `--cpus N` as the scheduler sees it: `quota` microseconds of CPU time in
/// every `period` microseconds. 1.5 CPUs = 150 ms per 100 ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CpuQuota {
    /// CPU time allowed per period, in microseconds.
    pub quota_us: u64,
    /// Length of the period, in microseconds.
    pub period_us: u64,
}

/// The period docker uses for `--cpus`: 100 ms.
pub const CPU_PERIOD_US: u64 = 100_000;

/// A flag value that could not be understood.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("invalid value {value:?} for {flag}: {expected}")]
pub struct LimitError {
    /// The flag, e.g. `--memory`.
    pub flag: &'static str,
    /// The value as given.
    pub value: String,
    /// The accepted forms.
    pub expected: &'static str,
}

fn invalid(flag: &'static str, value: &str, expected: &'static str) -> LimitError {
    LimitError {
        flag,
        value: value.to_string(),
        expected,
    }
}

const SIZE_FORMS: &str =
    "use a number of bytes with an optional unit b, k, m or g (powers of 1024), e.g. 512m or 1g";

// ANCHOR: parse_size
/// Parse a docker-style size: `1024`, `512k`, `32m`, `1.5g`, also with a
/// trailing `b` or `ib` (`32mb`, `32MiB`). Units are powers of 1024, as
/// docker's are for memory.
pub fn parse_size(flag: &'static str, value: &str) -> Result<u64, LimitError> {
    let text = value.trim().to_ascii_lowercase();
    let text = text
        .strip_suffix("ib")
        .or_else(|| text.strip_suffix('b'))
        .unwrap_or(&text);
    let (number, multiplier) = match text.chars().last() {
        Some('k') => (&text[..text.len() - 1], 1u64 << 10),
        Some('m') => (&text[..text.len() - 1], 1 << 20),
        Some('g') => (&text[..text.len() - 1], 1 << 30),
        Some('t') => (&text[..text.len() - 1], 1 << 40),
        _ => (text, 1),
    };
    let number: f64 = number
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n > 0.0)
        .ok_or_else(|| invalid(flag, value, SIZE_FORMS))?;
    let bytes = number * multiplier as f64;
    // Less than a byte (0.5) is no size; more than 2^63 is no machine.
    if !(1.0..u64::MAX as f64 / 2.0).contains(&bytes) {
        return Err(invalid(flag, value, SIZE_FORMS));
    }
    Ok(bytes as u64)
}
// ANCHOR_END: parse_size

/// `--memory`: a size of at least 6 MiB, docker's floor: below that the
/// container's own init and shell do not fit.
pub fn parse_memory(value: &str) -> Result<u64, LimitError> {
    let bytes = parse_size("--memory", value)?;
    if bytes < 6 << 20 {
        return Err(invalid("--memory", value, "the minimum is 6m"));
    }
    Ok(bytes)
}

/// `--memory-swap`: a size, or -1 for unlimited swap.
pub fn parse_swap(value: &str) -> Result<Swap, LimitError> {
    if value.trim() == "-1" {
        return Ok(Swap::Unlimited);
    }
    parse_size("--memory-swap", value)
        .map(Swap::Total)
        .map_err(|_| {
            invalid(
                "--memory-swap",
                value,
                "use a size such as 1g (memory plus swap), or -1 for unlimited swap",
            )
        })
}

// ANCHOR: parse_cpus
/// `--cpus 1.5` → 150 000 µs of CPU time every 100 000 µs.
pub fn parse_cpus(value: &str) -> Result<CpuQuota, LimitError> {
    const FORMS: &str = "use a positive number of CPUs such as 0.5 or 2";
    let cpus: f64 = value
        .trim()
        .parse()
        .map_err(|_| invalid("--cpus", value, FORMS))?;
    if !cpus.is_finite() || cpus <= 0.0 {
        return Err(invalid("--cpus", value, FORMS));
    }
    let quota_us = (cpus * CPU_PERIOD_US as f64).round() as u64;
    // The kernel refuses quotas under 1 ms.
    if quota_us < 1000 {
        return Err(invalid("--cpus", value, "the minimum is 0.01"));
    }
    Ok(CpuQuota {
        quota_us,
        period_us: CPU_PERIOD_US,
    })
}
// ANCHOR_END: parse_cpus

/// `--cpu-shares`: 2 to 262144, as cgroup v1's cpu.shares accepts.
pub fn parse_shares(value: &str) -> Result<u64, LimitError> {
    match value.trim().parse::<u64>() {
        Ok(shares @ 2..=262_144) => Ok(shares),
        _ => Err(invalid(
            "--cpu-shares",
            value,
            "use a whole number from 2 to 262144 (the default weight is 1024)",
        )),
    }
}

/// `--pids-limit`: at least 1 process.
pub fn parse_pids(value: &str) -> Result<u64, LimitError> {
    match value.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(invalid(
            "--pids-limit",
            value,
            "use a whole number of processes, 1 or more, e.g. 100",
        )),
    }
}

/// `--cpuset-cpus`: a list like `0`, `0-2` or `0,2-3`, each CPU below
/// `available` (the number of CPUs the host has).
pub fn parse_cpuset(value: &str, available: usize) -> Result<String, LimitError> {
    const FORMS: &str = "use CPU numbers and ranges such as 0, 0-1 or 0,2 (CPUs start at 0)";
    let mut canonical = Vec::new();
    for part in value.trim().split(',') {
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (a, b),
            None => (part, part),
        };
        let (Ok(first), Ok(last)) = (first.parse::<usize>(), last.parse::<usize>()) else {
            return Err(invalid("--cpuset-cpus", value, FORMS));
        };
        if first > last {
            return Err(invalid("--cpuset-cpus", value, FORMS));
        }
        if last >= available {
            return Err(invalid(
                "--cpuset-cpus",
                value,
                "that CPU does not exist on this host (see nproc)",
            ));
        }
        canonical.push(if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        });
    }
    Ok(canonical.join(","))
}

/// The size in docker's and the kernel's binary units, for messages:
/// `33554432` → `32MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("B", 1),
    ];
    for (unit, size) in UNITS {
        if bytes >= size {
            let value = bytes as f64 / size as f64;
            return if value.fract() == 0.0 {
                format!("{value}{unit}")
            } else {
                format!("{value:.1}{unit}")
            };
        }
    }
    "0B".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_docker_forms() {
        let cases = [
            "1024", "512k", "32m", "32M", "32mb", "32MiB", "1.5g", "1g", "6m",
        ];
        let parsed: Vec<String> = cases
            .iter()
            .map(|c| format!("{c:>6} -> {}", parse_size("--memory", c).unwrap()))
            .collect();
        insta::assert_snapshot!(parsed.join("\n"));
    }

    #[test]
    fn bad_values_name_the_flag_and_the_forms() {
        let errors = [
            parse_memory("lots").unwrap_err(),
            parse_memory("1m").unwrap_err(),
            parse_memory("-5m").unwrap_err(),
            parse_swap("forever").unwrap_err(),
            parse_cpus("-1").unwrap_err(),
            parse_cpus("0").unwrap_err(),
            parse_cpus("0.001").unwrap_err(),
            parse_cpus("half").unwrap_err(),
            parse_shares("1").unwrap_err(),
            parse_pids("0").unwrap_err(),
            parse_pids("-1").unwrap_err(),
            parse_cpuset("0-", 2).unwrap_err(),
            parse_cpuset("3", 2).unwrap_err(),
        ];
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(text.join("\n"));
    }

    #[test]
    fn cpus_become_quota_per_period() {
        assert_eq!(
            parse_cpus("1.5").unwrap(),
            CpuQuota {
                quota_us: 150_000,
                period_us: 100_000
            }
        );
        assert_eq!(
            parse_cpus("0.5").unwrap(),
            CpuQuota {
                quota_us: 50_000,
                period_us: 100_000
            }
        );
        assert_eq!(parse_swap("-1").unwrap(), Swap::Unlimited);
        assert_eq!(parse_cpuset("0,1", 2).unwrap(), "0,1");
        assert_eq!(parse_cpuset("0-0", 2).unwrap(), "0");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(32 << 20), "32MiB");
        assert_eq!(human_size(1536 << 20), "1.5GiB");
        assert_eq!(human_size(512), "512B");
    }
}
