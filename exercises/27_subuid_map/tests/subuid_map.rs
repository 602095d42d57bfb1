//! Exercise 27's tests: an /etc/subuid like one a few `useradd`s and a
//! `usermod` leave behind, broken lines, and the maps newuidmap would be
//! given for a 65536-id container.

#[cfg(not(feature = "solution"))]
use ex27_subuid_map as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/27_subuid_map.rs"]
mod subject;

use subject::{parse_subid, uid_map, MapLine, SubIdError, SubRange};

/// What most images need: uids 0 to 65535, nobody (65534) among them.
const SIZE: u32 = 65536;

const SUBUID: &str = "\
# /etc/subuid: NAME:START:COUNT, written by useradd and usermod
alice:100000:65536
bob:165536:65536

   # an indented comment
1000:231072:1000
carol:296608:65536
alice:362144:1000
";

fn range(start: u32, count: u32) -> SubRange {
    SubRange { start, count }
}

/// The map as the lines newuidmap writes to uid_map.
fn shown(map: &[MapLine]) -> String {
    let lines: Vec<String> = map.iter().map(MapLine::to_string).collect();
    lines.join("\n")
}

#[test]
fn a_map_line_is_written_as_uid_map_takes_it() {
    let line = MapLine {
        inside: 0,
        outside: 1000,
        count: 1,
    };
    assert_eq!(line.to_string(), "0 1000 1");
}

#[test]
fn a_users_ranges_by_name_and_by_uid_in_file_order() {
    let users = [
        ("alice", 1000),
        ("bob", 1001),
        ("carol", 1002),
        ("dave", 1003),
        ("root", 0),
    ];
    let lines: Vec<String> = users
        .iter()
        .map(|(user, uid)| {
            let ranges = parse_subid(SUBUID, user, *uid).expect("a good file");
            let listed: Vec<String> = ranges
                .iter()
                .map(|r| format!("{}+{}", r.start, r.count))
                .collect();
            format!("{user:<6} uid {uid:<5} [{}]", listed.join(", "))
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn a_malformed_line_is_an_error_with_its_number() {
    let files = [
        "alice:100000",
        "alice:100000:65536:1",
        "alice:x:65536",
        "alice:100000:",
        ":100000:65536",
        "alice:100000:0",
        "alice:-1:65536",
        "alice:4294967295:2",
        "alice: 100000:65536",
        "alice 100000 65536",
        // Someone else's broken line breaks the file for everyone.
        "alice:100000:65536\n\n# fine so far\nbob:165536:65_536\nalice:1:1",
    ];
    let lines: Vec<String> = files
        .iter()
        .map(|text| match parse_subid(text, "alice", 1000) {
            Ok(ranges) => format!("{text:?}: {ranges:?}"),
            Err(error) => format!("✗ {error}"),
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn edges_of_a_good_file() {
    assert_eq!(parse_subid("", "alice", 1000), Ok(vec![]));
    assert_eq!(
        parse_subid("alice:4294901760:65536\r\n", "alice", 1000),
        Ok(vec![range(4_294_901_760, 65536)])
    );
    // The uid must be the whole name.
    assert_eq!(parse_subid("10000:100000:65536", "alice", 1000), Ok(vec![]));
}

#[test]
fn maps_newuidmap_is_given() {
    let cases: [(&str, &[SubRange], u32); 6] = [
        (
            "the usual 65536 from useradd",
            &[range(100_000, 65536)],
            SIZE,
        ),
        (
            "rootless docker's: all 65536 of them",
            &[range(100_000, 65536)],
            SIZE + 1,
        ),
        (
            "two ranges that are enough together",
            &[range(231_072, 1000), range(100_000, 65536)],
            SIZE,
        ),
        (
            "more than needed: the rest is not used",
            &[
                range(100_000, 30000),
                range(200_000, 65536),
                range(300_000, 10),
            ],
            SIZE,
        ),
        ("one id, the user's own", &[], 1),
        (
            "exactly enough",
            &[range(500_000, 35535), range(600_000, 30000)],
            SIZE,
        ),
    ];
    let shown: Vec<String> = cases
        .iter()
        .map(|(what, ranges, size)| {
            let map = uid_map(1000, ranges, *size).expect("enough subordinate ids");
            let total: u64 = map.iter().map(|line| u64::from(line.count)).sum();
            assert_eq!(total, u64::from(*size), "{what}: {map:?}");
            format!("{what}, size {size}:\n{}", shown(&map))
        })
        .collect();
    insta::assert_snapshot!(shown.join("\n\n"));
}

#[test]
fn too_few_subordinate_ids_says_how_many_are_missing() {
    let cases: [&[SubRange]; 3] = [&[], &[range(231_072, 1000)], &[range(100_000, 65534)]];
    let lines: Vec<String> = cases
        .iter()
        .map(|ranges| match uid_map(1000, ranges, SIZE) {
            Ok(map) => shown(&map),
            Err(error) => format!("✗ {error}"),
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
    assert_eq!(
        uid_map(1000, &[range(100_000, 65534)], SIZE),
        Err(SubIdError::TooFew {
            size: SIZE,
            needed: 65535,
            found: 65534,
            missing: 1
        })
    );
}
