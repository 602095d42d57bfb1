//! # Exercise 05: docker's limit values, as the kernel counts them
//!
//! `docker run -m 512m --cpus 1.5` reads like English; the cgroup files want
//! plain numbers: bytes for memory, and for CPU a quota of microseconds in
//! every period. Write the two parsers that turn one into the other.
//!
//! | flag value | means | the cgroup gets |
//! |---|---|---|
//! | `-m 1024` | 1024 bytes | `1024` |
//! | `-m 512k`, `512kb`, `512KiB` | 512 × 1024 bytes | `524288` |
//! | `-m 1.5g` | 1.5 × 1024³ bytes | `1610612736` |
//! | `--cpus 1.5` | one and a half CPUs | `150000 100000` (µs per µs) |
//! | `--cpus 0.5` | half of one CPU | `50000 100000` |
//!
//! Run `cargo ex check 05_parse_limits` until it passes.

// The parameters are unused until the `todo!()`s are replaced.
#![allow(unused_variables)]

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
    // TODO: trim and lowercase the value.
    // TODO: split it where the number ends: digits and '.' on the left, the
    //       unit on the right. Pick the multiplier for the unit, or NotASize.
    // TODO: parse the number as an f64, or NotASize.
    // TODO: multiply, then check for Zero and TooBig before turning the
    //       product into a u64.
    todo!("parse a docker size such as 512m into bytes")
}

/// Parse `--cpus` into `(quota_us, period_us)`: the microseconds of CPU time
/// the container may use in every period of [`CPU_PERIOD_US`].
///
/// Surrounding whitespace is ignored. The value must parse as a finite
/// `f64`, or it is [`CpusError::NotANumber`]; it must be above 0, or it is
/// [`CpusError::NotPositive`]. The quota is CPUs × period, rounded to the
/// nearest microsecond; under 1000 µs is [`CpusError::TooSmall`].
pub fn parse_cpus(value: &str) -> Result<(u64, u64), CpusError> {
    // TODO: parse the trimmed value as an f64; check it in the order the doc
    //       comment gives.
    // TODO: quota = CPUs × CPU_PERIOD_US, rounded; refuse quotas under 1000.
    todo!("turn a number of CPUs into a quota and a period")
}
