// ANCHOR: idmap
//! uid_map and gid_map: how a user namespace translates ids.
//!
//! Each line of /proc/PID/uid_map is `INSIDE OUTSIDE COUNT`: ids
//! INSIDE..INSIDE+COUNT in the namespace are OUTSIDE..OUTSIDE+COUNT on the
//! host. The file can be written once, by a process with CAP_SETUID over the
//! namespace's parent (here: us, root, from outside), and only after the
//! child exists — hence the parent writes it and then lets the child go on.

use std::path::PathBuf;
use thiserror::Error;

// ANCHOR: id_range
/// One range of a uid or gid map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    /// First id as seen inside the namespace.
    pub inside: u32,
    /// The host id it stands for.
    pub outside: u32,
    /// How many consecutive ids the range covers.
    pub count: u32,
}

/// Where `--userns` puts the container's root: uid 100000 on the host, with
/// 65536 ids, the range `useradd` hands out first in /etc/subuid. Anything the
/// container's root does, the host sees done by an unprivileged uid.
pub const DEFAULT_USERNS_RANGE: IdRange = IdRange {
    inside: 0,
    outside: 100_000,
    count: 65_536,
};

/// The text to write to uid_map or gid_map: one line per range.
pub fn render_map(ranges: &[IdRange]) -> String {
    ranges
        .iter()
        .map(|r| format!("{} {} {}\n", r.inside, r.outside, r.count))
        .collect()
}
// ANCHOR_END: id_range

/// Why an id map could not be written.
#[derive(Debug, Error)]
#[error("cannot write {path}: {source}")]
pub struct IdMapError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// Write the same ranges as the uid and the gid map of process `pid`.
pub fn write_maps(pid: nix::unistd::Pid, ranges: &[IdRange]) -> Result<(), IdMapError> {
    let text = render_map(ranges);
    for file in ["uid_map", "gid_map"] {
        let path = PathBuf::from(format!("/proc/{pid}/{file}"));
        // One write(2) with the whole map: the kernel takes the map from the
        // first write and refuses any later one.
        std::fs::write(&path, &text).map_err(|source| IdMapError { path, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_line_per_range() {
        let text = render_map(&[
            DEFAULT_USERNS_RANGE,
            IdRange {
                inside: 65_536,
                outside: 300_000,
                count: 1,
            },
        ]);
        assert_eq!(text, "0 100000 65536\n65536 300000 1\n");
    }
}
// ANCHOR_END: idmap
