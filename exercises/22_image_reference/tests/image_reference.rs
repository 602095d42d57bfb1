//! Exercise 22's tests: a table of names with what each means or why it is
//! refused, then two ways back: the full name and the local name each read
//! again to the same image.

#[cfg(not(feature = "solution"))]
use ex22_image_reference as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/22_image_reference.rs"]
mod subject;

use subject::{parse_name, BadName, ImageName};

fn digest() -> String {
    format!("sha256:{}", "0123456789abcdef".repeat(4))
}

/// Names docker accepts, from the everyday to the odd.
fn good() -> Vec<String> {
    let digest = digest();
    vec![
        "alpine".into(),
        "alpine:3.20".into(),
        "library/alpine".into(),
        "docker.io/alpine".into(),
        "docker.io/library/alpine:edge".into(),
        "bitnami/redis:7.2".into(),
        "library/a/b".into(),
        "localhost/app:v1".into(),
        "localhost:5000/app".into(),
        "127.0.0.1:5000/team/app:v1".into(),
        "ghcr.io/o/r:1".into(),
        "ghcr.io/o/r/deep:1".into(),
        "Registry.Example.com/app".into(),
        // Without a '/', the ':' is a tag's: the image `localhost`, tag 5000.
        "localhost:5000".into(),
        "app:V1.0_rc-2".into(),
        "app:_x".into(),
        format!("app:{}", "t".repeat(128)),
        "my.app".into(),
        "my_app".into(),
        "my__app".into(),
        "my---app".into(),
        "a1/2b/c-3".into(),
        format!("alpine@{digest}"),
        format!("alpine:3.20@{digest}"),
        format!("localhost:5000/team/app:v2@{digest}"),
    ]
}

/// Names docker refuses, one rule broken in each.
fn bad() -> Vec<String> {
    vec![
        "".into(),
        "Alpine".into(),
        "team/App:v1".into(),
        "alpine:".into(),
        "alpine:-x".into(),
        "alpine:.x".into(),
        "alpine:a+b".into(),
        format!("alpine:{}", "t".repeat(129)),
        "alpine@sha256:abc".into(),
        format!("alpine@sha512:{}", "ab".repeat(32)),
        format!("alpine@sha256:{}", "AB".repeat(32)),
        "alpine@".into(),
        "localhost:5000/".into(),
        "ghcr.io/".into(),
        ":3.20".into(),
        "a//b".into(),
        "a/".into(),
        "/a".into(),
        "-a".into(),
        "a-".into(),
        "a..b".into(),
        "a._b".into(),
        "my___app".into(),
        "alpine:3.20:x".into(),
        "my app".into(),
    ]
}

fn show(text: &str) -> String {
    match parse_name(text) {
        Ok(name) => format!(
            "{text:<30} → {name}\n{:<30}   endpoint {}, familiar {}, local {}",
            "",
            name.endpoint(),
            name.familiar(),
            name.local()
        ),
        Err(why) => format!("{text:<30} ✗ {why}"),
    }
}

#[test]
fn names_docker_accepts() {
    let lines: Vec<String> = good().iter().map(|text| show(text)).collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn names_docker_refuses() {
    let lines: Vec<String> = bad().iter().map(|text| show(text)).collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn the_full_name_reads_back_as_the_same_image() {
    for text in good() {
        let name = parse_name(&text).expect("a good name");
        let again: Result<ImageName, BadName> = parse_name(&name.to_string());
        assert_eq!(again, Ok(name.clone()), "{text} printed as {name}");
    }
}

#[test]
fn the_local_name_reads_back_as_the_same_repository() {
    for text in good() {
        let name = parse_name(&text).expect("a good name");
        let local = parse_name(&name.local()).expect("a local name is a name");
        assert_eq!(
            (&local.registry, &local.repository, &local.digest),
            (&name.registry, &name.repository, &name.digest),
            "{text}, kept as {}",
            name.local()
        );
    }
}
