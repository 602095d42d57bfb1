//! Exercise 20's tests: good and bad `-p` values, each read as cratebox
//! reads it.

#[cfg(not(feature = "solution"))]
use ex20_parse_publish as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/20_parse_publish.rs"]
mod subject;

use cratebox_network::ports as real;
use subject::parse_publish;

const GOOD: &[&str] = &[
    "80",
    "8080:80",
    "127.0.0.1:8080:80",
    "127.0.0.1::80",
    "5353:53/udp",
    "8000-8002:80-82",
    "7000/tcp",
];

const BAD: &[&str] = &[
    "0:80",
    "70000:80",
    "80/sctp",
    "localhost:8080:80",
    "1:2:3:4",
    "8000-8002:80",
    "90-80:90-80",
    "",
];

#[test]
fn good_values_publish_what_docker_publishes() {
    let mut lines = Vec::new();
    for value in GOOD {
        let mine =
            parse_publish(value).unwrap_or_else(|why| panic!("-p {value} is good, but: {why}"));
        let theirs = real::parse_publish(value).expect("cratebox reads it");
        assert_eq!(mine, theirs, "-p {value}");
        lines.push(format!("-p {value}: {mine:?}"));
    }
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn bad_values_are_refused_with_a_reason() {
    for value in BAD {
        assert!(
            real::parse_publish(value).is_err(),
            "cratebox refuses {value:?}"
        );
        match parse_publish(value) {
            Ok(ports) => panic!("-p {value:?} should be refused, not read as {ports:?}"),
            Err(why) => assert!(!why.is_empty(), "-p {value:?}: say why"),
        }
    }
}
