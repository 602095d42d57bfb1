//! # Exercise 27: a rootless container's uid map, from /etc/subuid
//!
//! ```text
//! /etc/subuid                     the uid map newuidmap writes
//! alice:100000:65536              0   1000      1       root is alice herself
//!                                 1   100000    65535   the others, hers to use
//! ```
//!
//! Without root, a user may map into a user namespace only its own uid.
//! For the other ids a container needs (an image's files belong to root,
//! nobody, www-data...), root has set aside *subordinate* ids for the user
//! in /etc/subuid, and the setuid helper newuidmap(1) writes a map that
//! uses them, once it has checked that they are the user's.
//!
//! Write [`parse_subid`] and [`uid_map`]. The types, the errors and the
//! `Display` of a map line are written. Run `cargo ex check 27_subuid_map`
//! until it passes.

// The parameters are unused until the `todo!()`s are replaced.
#![allow(unused_variables)]

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

/// The subordinate ranges of `user`, whose uid is `uid`, in the order of
/// `text`, a file in /etc/subuid's format.
///
/// - A line is `NAME:START:COUNT`; it is the user's when NAME is `user` or
///   is `uid` written as a number (`1000:100000:65536`).
/// - Blank lines, and lines whose first non-blank character is `#`, are
///   skipped.
/// - Any other line that is not three fields, a non-empty name and two
///   numbers, COUNT at least 1 and START + COUNT at most 2^32, is
///   [`SubIdError::Malformed`], whoever's it is: the first such line.
/// - No line for the user is no ranges, not an error.
pub fn parse_subid(text: &str, user: &str, uid: u32) -> Result<Vec<SubRange>, SubIdError> {
    // TODO: text.lines() with their numbers, from 1; skip blanks and '#'.
    // TODO: split on ':' into exactly three fields; parse START and COUNT
    //       as u32, and check the range (a u64 sum cannot overflow).
    // TODO: keep the ranges whose name is the user's, or its uid.
    todo!("the user's subordinate ranges")
}

/// The uid map of a container with `size` ids (1 or more), for the user
/// with uid `uid` and the subordinate `ranges`, as newuidmap is given it:
///
/// - container uid 0 is the user's own `uid`, count 1;
/// - container uids 1, 2, ... are the subordinate ids, range after range
///   in their order, a line each, the last one cut short so that the map
///   has `size` ids in all; ranges left over are not used.
///
/// When the ranges hold fewer than `size - 1` ids, the error says how many
/// are missing.
pub fn uid_map(uid: u32, ranges: &[SubRange], size: u32) -> Result<Vec<MapLine>, SubIdError> {
    // TODO: the first line; then `inside` counts up from 1 while ranges
    //       are taken, each at most what is still needed.
    // TODO: sum the counts as u64 for the error.
    todo!("the map newuidmap is given")
}
