//! Exercise 03's tests: ids translated through real-looking maps both ways,
//! and each kind of map the kernel would refuse.

#[cfg(not(feature = "solution"))]
use ex03_id_maps as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/03_id_maps.rs"]
mod subject;

use cratebox_sandbox::idmap::{render_map, IdRange, DEFAULT_USERNS_RANGE};
use subject::{parse_map, to_container, to_host, MapError, MAX_RANGES};

fn show(id: Option<u32>) -> String {
    id.map_or_else(|| "unmapped".to_string(), |id| id.to_string())
}

/// A table of `inside -> host` and `host -> inside` for the map in `text`.
fn translations(text: &str, inside: &[u32], outside: &[u32]) -> String {
    let ranges = parse_map(text).expect("the map is valid");
    let mut out = format!("map {text:?}\n");
    for id in inside {
        out += &format!(
            "  inside {id:>10} -> host {}\n",
            show(to_host(&ranges, *id))
        );
    }
    for id in outside {
        out += &format!(
            "  host   {id:>10} -> inside {}\n",
            show(to_container(&ranges, *id))
        );
    }
    out
}

#[test]
fn default_userns_map_shifts_every_id_by_100000() {
    let text = render_map(&[DEFAULT_USERNS_RANGE]);
    insta::assert_snapshot!(translations(
        &text,
        &[0, 1, 1000, 65535, 65536],
        &[0, 99_999, 100_000, 101_000, 165_535, 165_536]
    ));
}

#[test]
fn rootless_map_puts_root_on_the_users_own_uid() {
    // What rootless podman writes: root inside is the user (1000), the rest
    // comes from /etc/subuid.
    let text = "0 1000 1\n1 100000 65536\n";
    insta::assert_snapshot!(translations(
        text,
        &[0, 1, 2, 65536, 65537],
        &[0, 1000, 1001, 100_000, 165_535]
    ));
}

#[test]
fn kernel_padded_identity_map_covers_all_but_the_last_id() {
    // /proc/self/uid_map of a process in the initial user namespace, as the
    // kernel prints it ("%10u %10u %10u\n").
    let text = "         0          0 4294967295\n";
    insta::assert_snapshot!(translations(
        text,
        &[0, 4_294_967_294, u32::MAX],
        &[1000, u32::MAX]
    ));
}

#[test]
fn parsing_what_cratebox_writes_gives_back_its_ranges() {
    let ranges = [
        DEFAULT_USERNS_RANGE,
        IdRange {
            inside: 65_536,
            outside: 300_000,
            count: 1,
        },
    ];
    assert_eq!(parse_map(&render_map(&ranges)), Ok(ranges.to_vec()));
    assert_eq!(parse_map(""), Ok(Vec::new()), "an empty map maps nothing");
}

#[test]
fn maps_the_kernel_would_refuse() {
    let too_many: String = (0..=MAX_RANGES)
        .map(|i| format!("{i} {} 1\n", 1000 + i))
        .collect();
    let cases = [
        ("two fields", "0 1000".to_string()),
        ("four fields", "0 1000 1 1".to_string()),
        ("a name, not a number", "root 1000 1".to_string()),
        ("negative", "0 -1 1".to_string()),
        ("too big for an id", "0 1000 4294967296".to_string()),
        ("count zero", "0 1000 0".to_string()),
        ("inside past the last id", "4294967295 0 1".to_string()),
        ("outside past the last id", "0 4294967290 10".to_string()),
        ("inside ranges overlap", "0 1000 10\n5 2000 10".to_string()),
        ("outside ranges overlap", "0 1000 10\n10 1009 5".to_string()),
        ("blank line between ranges", "0 0 1\n\n1 1 1".to_string()),
        ("341 ranges", too_many),
    ];
    let mut out = String::new();
    for (label, text) in &cases {
        let error: MapError = parse_map(text).expect_err(label);
        out += &format!("{label}: {error}\n");
    }
    insta::assert_snapshot!(out);
}

#[test]
fn neighbouring_ranges_do_not_overlap() {
    let ranges = parse_map("0 1000 10\n10 1010 10\n").expect("adjacent ranges are fine");
    assert_eq!(to_host(&ranges, 9), Some(1009));
    assert_eq!(to_host(&ranges, 10), Some(1010));
    assert_eq!(to_container(&ranges, 1019), Some(19));
}

#[test]
fn hand_made_range_past_u32_max_does_not_overflow() {
    let ranges = [IdRange {
        inside: 0,
        outside: u32::MAX - 1,
        count: 10,
    }];
    assert_eq!(to_host(&ranges, 1), Some(u32::MAX));
    assert_eq!(to_host(&ranges, 5), None);
}
