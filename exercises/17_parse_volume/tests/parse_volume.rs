//! Exercise 17's tests: good and bad `-v` values, each read as cratebox
//! reads it.

#[cfg(not(feature = "solution"))]
use ex17_parse_volume as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/17_parse_volume.rs"]
mod subject;

use cratebox_runtime::volumes as real;
use subject::parse_volume;

const GOOD: &[&str] = &[
    "/srv/site:/www:ro",
    "/srv/site:/www",
    "/srv/site:/www:rw",
    "data:/var/lib/db",
    "data.v2_x-y:/data:ro",
    "/var/cache",
];

const BAD: &[&str] = &[
    "data:relative/path",
    "relative",
    "/a:/b:z",
    "/a:/b:ro:extra",
    "bad name:/x",
    "-dash:/x",
    "",
];

#[test]
fn good_values_mount_what_docker_mounts() {
    let mut lines = Vec::new();
    for value in GOOD {
        let mine = parse_volume(value, "ANON")
            .unwrap_or_else(|why| panic!("-v {value} is good, but: {why}"));
        let theirs = real::parse_volume(value, "ANON").expect("cratebox reads it");
        assert_eq!(mine, theirs, "-v {value}");
        lines.push(format!("-v {value}: {mine:?}"));
    }
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn bad_values_are_refused_with_a_reason() {
    for value in BAD {
        assert!(
            real::parse_volume(value, "ANON").is_err(),
            "cratebox refuses {value:?}"
        );
        match parse_volume(value, "ANON") {
            Ok(spec) => panic!("-v {value:?} should be refused, not read as {spec:?}"),
            Err(why) => assert!(!why.is_empty(), "-v {value:?}: say why"),
        }
    }
}
