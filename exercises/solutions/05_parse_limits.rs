//! Reference solution for exercise 05: docker's sizes and CPU counts.

use thiserror::Error;

/// The period docker uses for `--cpus`: every 100 000 µs (100 ms), a
/// container may run for its quota.
pub const CPU_PERIOD_US: u64 = 100_000;

/// What [`parse_size`] accepts, for its error message.
pub const SIZE_FORMS: &str = "use a number of bytes with an optional unit k, m, g or t \
     (powers of 1024), which may end in b or ib: 1024, 512k, 1.5g, 32MiB";

/// What [`parse_cpus`] accepts, for its error messages.
pub const CPUS_FORMS: &str = "use a positive number of CPUs such as 0.5, 1 or 2";

/// Why a value is not a size.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SizeError {
    /// Not a number followed by a known unit: empty, negative, garbage.
    #[error("{value:?} is not a size: {SIZE_FORMS}")]
    NotASize {
        /// The value as given.
        value: String,
    },
    /// A size that comes to less than one byte: a limit of nothing.
    #[error("{value:?} is 0 bytes: a limit must be at least 1 byte")]
    Zero {
        /// The value as given.
        value: String,
    },
    /// 2^63 bytes (8 EiB) or more: docker keeps sizes in a signed 64-bit
    /// number, and so does the kernel's page counter.
    #[error("{value:?} is too big: a size must be under 8 EiB (2^63 bytes)")]
    TooBig {
        /// The value as given.
        value: String,
    },
}

/// Why a value is not a number of CPUs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CpusError {
    /// Not a number at all (infinity and NaN count as not a number).
    #[error("{value:?} is not a number of CPUs: {CPUS_FORMS}")]
    NotANumber {
        /// The value as given.
        value: String,
    },
    /// Zero or negative.
    #[error("{value:?} CPUs is not more than 0: {CPUS_FORMS}")]
    NotPositive {
        /// The value as given.
        value: String,
    },
    /// A quota under 1000 µs, which the kernel refuses.
    #[error("{value:?} CPUs is under 1000 µs per period, the least the kernel accepts: the minimum is 0.01")]
    TooSmall {
        /// The value as given.
        value: String,
    },
}

/// Parse a docker-style size into bytes.
///
/// Surrounding whitespace is ignored and letters may be upper or lower case.
/// The value is a number (digits, with at most one decimal point) and then
/// an optional unit: none or `b` for bytes, `k`, `m`, `g` or `t` for 1024,
/// 1024², 1024³ or 1024⁴ bytes, each also spelled with a trailing `b` or `ib`
/// (`32m`, `32mb`, `32MiB`). A fraction of a byte is dropped: `0.1k` is 102.
///
/// Anything else is [`SizeError::NotASize`]; a size that comes to 0 bytes is
/// [`SizeError::Zero`]; one of 2^63 bytes or more is [`SizeError::TooBig`].
pub fn parse_size(value: &str) -> Result<u64, SizeError> {
    let not_a_size = || SizeError::NotASize {
        value: value.to_string(),
    };
    let text = value.trim().to_ascii_lowercase();
    // Everything up to the first character that cannot be part of the
    // number: so "-5m" has no number at all, and "1e3" has the unit "e3".
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let multiplier: u64 = match unit {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(not_a_size()),
    };
    // Only digits and dots are left, so this refuses "", "." and "1.2.3"
    // and never sees a sign, an exponent, "inf" or "nan".
    let number: f64 = number.parse().map_err(|_| not_a_size())?;
    let bytes = (number * multiplier as f64).trunc();
    if bytes < 1.0 {
        return Err(SizeError::Zero {
            value: value.to_string(),
        });
    }
    // 2^63 is exact as an f64; anything from there up does not fit an i64.
    if bytes >= (1u64 << 63) as f64 {
        return Err(SizeError::TooBig {
            value: value.to_string(),
        });
    }
    Ok(bytes as u64)
}

/// Parse `--cpus` into `(quota_us, period_us)`: the microseconds of CPU time
/// the container may use in every period of [`CPU_PERIOD_US`].
///
/// Surrounding whitespace is ignored. The value must parse as a finite
/// `f64`, or it is [`CpusError::NotANumber`]; it must be above 0, or it is
/// [`CpusError::NotPositive`]. The quota is CPUs × period, rounded to the
/// nearest microsecond; under 1000 µs is [`CpusError::TooSmall`].
pub fn parse_cpus(value: &str) -> Result<(u64, u64), CpusError> {
    let cpus: f64 = value
        .trim()
        .parse()
        .ok()
        .filter(|cpus: &f64| cpus.is_finite())
        .ok_or_else(|| CpusError::NotANumber {
            value: value.to_string(),
        })?;
    if cpus <= 0.0 {
        return Err(CpusError::NotPositive {
            value: value.to_string(),
        });
    }
    let quota_us = (cpus * CPU_PERIOD_US as f64).round();
    if quota_us < 1000.0 {
        return Err(CpusError::TooSmall {
            value: value.to_string(),
        });
    }
    Ok((quota_us as u64, CPU_PERIOD_US))
}
