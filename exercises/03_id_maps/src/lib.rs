//! # Exercise 03: read a user namespace's id map, translate ids through it
//!
//! `/proc/PID/uid_map` says how a user namespace's ids stand for the host's.
//! Each line is `INSIDE OUTSIDE COUNT`: ids `INSIDE..INSIDE+COUNT` in the
//! namespace are `OUTSIDE..OUTSIDE+COUNT` on the host. Reading the file, the
//! kernel pads the columns (`         0     100000      65536`); writing it,
//! one space will do. Either way, fields are separated by any whitespace.
//!
//! Write the parser, with the same rules the kernel applies when the map is
//! written (see user_namespaces(7) and `map_write` in kernel/user_namespace.c),
//! and the two translations.
//!
//! Run `cargo ex check 03_id_maps` until it passes.

// The parameters are unused until the `todo!()`s are replaced.
#![allow(unused_variables)]

use cratebox_sandbox::idmap::IdRange;
use thiserror::Error;

/// The most ranges one map may have: the kernel's `UID_GID_MAP_MAX_EXTENTS`
/// (it was 5 before Linux 4.15).
pub const MAX_RANGES: usize = 340;

/// Why a map's text is not a map the kernel would accept. Line numbers
/// count from 1, as an editor shows them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MapError {
    /// A line without exactly three fields (a blank line has none).
    #[error("line {line}: expected 3 fields, INSIDE OUTSIDE COUNT, found {found}")]
    FieldCount {
        /// Which line.
        line: usize,
        /// How many whitespace-separated fields it has.
        found: usize,
    },
    /// A field that is not a number an id can be (0 to 4294967295).
    #[error("line {line}: {field} {text:?} is not a number from 0 to 4294967295")]
    NotANumber {
        /// Which line.
        line: usize,
        /// `INSIDE`, `OUTSIDE` or `COUNT`.
        field: &'static str,
        /// The field as written.
        text: String,
    },
    /// A range of no ids at all.
    #[error("line {line}: COUNT is 0, but a range must cover at least one id")]
    ZeroCount {
        /// Which line.
        line: usize,
    },
    /// A range that runs past the last id a map can cover, 4294967294:
    /// 4294967295 is `(uid_t) -1`, which means "no id" to many system calls.
    #[error("line {line}: the {side} range {first}+{count} runs past 4294967294, the last id a map can cover")]
    PastLastId {
        /// Which line.
        line: usize,
        /// `inside` or `outside`.
        side: &'static str,
        /// The range's first id.
        first: u32,
        /// Its COUNT.
        count: u32,
    },
    /// Two ranges that share ids, inside or outside: the translation would
    /// not be one-to-one.
    #[error("line {line}: its {side} ids overlap those of line {earlier}")]
    Overlap {
        /// The later of the two lines.
        line: usize,
        /// The earlier one.
        earlier: usize,
        /// `inside` or `outside`.
        side: &'static str,
    },
    /// More ranges than the kernel accepts.
    #[error("line {line}: a map may have at most {MAX_RANGES} ranges")]
    TooManyRanges {
        /// The first line past the limit.
        line: usize,
    },
}

/// Parse the text of a uid_map or gid_map, one range per line.
///
/// Checks, for each line in turn: three fields, each a `u32`; COUNT not 0;
/// neither range runs past id 4294967294; at most [`MAX_RANGES`] ranges; no
/// range overlaps an earlier one, inside or outside.
pub fn parse_map(text: &str) -> Result<Vec<IdRange>, MapError> {
    // TODO: go through text.lines() with their numbers (enumerate, plus 1).
    // TODO: split each line on whitespace; anything but 3 fields is FieldCount.
    // TODO: parse each field as u32, or NotANumber naming the field.
    // TODO: then the checks in the order the doc comment lists them.
    todo!("parse INSIDE OUTSIDE COUNT lines into IdRanges")
}

/// The host id that id `inside` of the namespace stands for, or `None` when
/// no range maps it (such ids show up as 65534, "nobody").
pub fn to_host(ranges: &[IdRange], inside: u32) -> Option<u32> {
    // TODO: find the range whose inside ids contain `inside`, and add the
    //       offset into it to its first outside id. Beware of overflow:
    //       inside + count may not fit in a u32 for a range not from parse_map.
    todo!("translate an id from the namespace to the host")
}

/// The namespace's id for host id `outside`, or `None` when the namespace
/// has no name for it.
pub fn to_container(ranges: &[IdRange], outside: u32) -> Option<u32> {
    // TODO: the same, the other way round.
    todo!("translate an id from the host to the namespace")
}
