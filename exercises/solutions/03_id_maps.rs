//! Reference solution for exercise 03: parse an id map, translate ids.

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
    let mut ranges: Vec<(usize, IdRange)> = Vec::new();
    for (index, content) in text.lines().enumerate() {
        let line = index + 1;
        let range = parse_line(line, content)?;
        if ranges.len() == MAX_RANGES {
            return Err(MapError::TooManyRanges { line });
        }
        for (earlier, other) in &ranges {
            for (side, first, other_first) in [
                ("inside", range.inside, other.inside),
                ("outside", range.outside, other.outside),
            ] {
                if overlap(first, range.count, other_first, other.count) {
                    return Err(MapError::Overlap {
                        line,
                        earlier: *earlier,
                        side,
                    });
                }
            }
        }
        ranges.push((line, range));
    }
    Ok(ranges.into_iter().map(|(_, range)| range).collect())
}

/// One line: three numbers, a range of at least one id that stays below
/// 4294967295 on both sides.
fn parse_line(line: usize, content: &str) -> Result<IdRange, MapError> {
    let fields: Vec<&str> = content.split_whitespace().collect();
    let [inside, outside, count] = fields[..] else {
        return Err(MapError::FieldCount {
            line,
            found: fields.len(),
        });
    };
    let number = |field: &'static str, text: &str| {
        text.parse::<u32>().map_err(|_| MapError::NotANumber {
            line,
            field,
            text: text.to_string(),
        })
    };
    let range = IdRange {
        inside: number("INSIDE", inside)?,
        outside: number("OUTSIDE", outside)?,
        count: number("COUNT", count)?,
    };
    if range.count == 0 {
        return Err(MapError::ZeroCount { line });
    }
    for (side, first) in [("inside", range.inside), ("outside", range.outside)] {
        // The kernel's own test: first + count must not wrap around.
        if first.checked_add(range.count).is_none() {
            return Err(MapError::PastLastId {
                line,
                side,
                first,
                count: range.count,
            });
        }
    }
    Ok(range)
}

/// Whether `a..a+a_count` and `b..b+b_count` share an id. Both ranges are
/// known not to wrap, so the sums fit.
fn overlap(a: u32, a_count: u32, b: u32, b_count: u32) -> bool {
    a < b + b_count && b < a + a_count
}

/// The host id that id `inside` of the namespace stands for, or `None` when
/// no range maps it (such ids show up as 65534, "nobody").
pub fn to_host(ranges: &[IdRange], inside: u32) -> Option<u32> {
    ranges
        .iter()
        .find_map(|range| translate(inside, range.inside, range.outside, range.count))
}

/// The namespace's id for host id `outside`, or `None` when the namespace
/// has no name for it.
pub fn to_container(ranges: &[IdRange], outside: u32) -> Option<u32> {
    ranges
        .iter()
        .find_map(|range| translate(outside, range.outside, range.inside, range.count))
}

/// `id` moved from the range starting at `from` to the one starting at
/// `to`, if it lies within the `count` ids of the first. Checked arithmetic:
/// a hand-made range may end past `u32::MAX`.
fn translate(id: u32, from: u32, to: u32, count: u32) -> Option<u32> {
    let offset = id.checked_sub(from).filter(|offset| *offset < count)?;
    to.checked_add(offset)
}
