//! Exercise 27, solved.

use std::fmt;

use thiserror::Error;

/// Subordinate ids of a user: `count` ids from `start` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubRange {
    /// The first id.
    pub start: u32,
    /// How many; never 0.
    pub count: u32,
}

/// One line of a uid map: ids `inside..inside+count` of the container are
/// `outside..outside+count` on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapLine {
    /// The first id in the container.
    pub inside: u32,
    /// The host id it is.
    pub outside: u32,
    /// How many ids the line maps.
    pub count: u32,
}

/// `0 1000 1`: a line as /proc/PID/uid_map takes it.
impl fmt::Display for MapLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.inside, self.outside, self.count)
    }
}

/// Why no map could be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SubIdError {
    /// A line that is not `NAME:START:COUNT`, with a name, two numbers, a
    /// count of at least 1 and a range that ends by id 4294967295.
    #[error("line {line}: {text:?} is not NAME:START:COUNT")]
    Malformed {
        /// Which line, counting from 1.
        line: usize,
        /// The line as written.
        text: String,
    },
    /// Fewer subordinate ids than the map needs.
    #[error(
        "too few subordinate uids, {missing} missing: a map of {size} ids needs {needed} besides \
         your own uid, and /etc/subuid gives you {found}; as root, add a range with \
         usermod --add-subuids FIRST-LAST USER"
    )]
    TooFew {
        /// The ids the map was to have, the user's own included.
        size: u32,
        /// How many of those must be subordinate ids: `size - 1`.
        needed: u32,
        /// How many the ranges have, all together.
        found: u64,
        /// `needed - found`.
        missing: u64,
    },
}

/// One line of /etc/subuid: its name and its range, or `None` when it is
/// not `NAME:START:COUNT` as the file wants it.
fn parse_line(line: &str) -> Option<(&str, SubRange)> {
    let [name, start, count] = line.split(':').collect::<Vec<_>>()[..] else {
        return None;
    };
    let (start, count): (u32, u32) = (start.parse().ok()?, count.parse().ok()?);
    let fits = u64::from(start) + u64::from(count) <= 1 << 32;
    (!name.is_empty() && count > 0 && fits).then_some((name, SubRange { start, count }))
}

/// The subordinate ranges of `user`, whose uid is `uid`.
pub fn parse_subid(text: &str, user: &str, uid: u32) -> Result<Vec<SubRange>, SubIdError> {
    let mut ranges = Vec::new();
    for (index, text) in text.lines().enumerate() {
        let trimmed = text.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (name, range) = parse_line(text).ok_or_else(|| SubIdError::Malformed {
            line: index + 1,
            text: text.to_string(),
        })?;
        if name == user || name.parse::<u32>() == Ok(uid) {
            ranges.push(range);
        }
    }
    Ok(ranges)
}

/// The uid map newuidmap is given.
pub fn uid_map(uid: u32, ranges: &[SubRange], size: u32) -> Result<Vec<MapLine>, SubIdError> {
    let needed = size.saturating_sub(1);
    let found: u64 = ranges.iter().map(|r| u64::from(r.count)).sum();
    if found < u64::from(needed) {
        return Err(SubIdError::TooFew {
            size,
            needed,
            found,
            missing: u64::from(needed) - found,
        });
    }
    let mut map = vec![MapLine {
        inside: 0,
        outside: uid,
        count: 1,
    }];
    let mut inside = 1;
    for range in ranges {
        let left = size.saturating_sub(inside);
        if left == 0 {
            break;
        }
        let count = range.count.min(left);
        map.push(MapLine {
            inside,
            outside: range.start,
            count,
        });
        inside += count;
    }
    Ok(map)
}
