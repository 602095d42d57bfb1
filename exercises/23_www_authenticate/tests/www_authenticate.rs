//! Exercise 23's tests: headers as registries send them, the corners of
//! the syntax, and headers that cannot be used, each with what it becomes.

#[cfg(not(feature = "solution"))]
use ex23_www_authenticate as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/23_www_authenticate.rs"]
mod subject;

use subject::{parse_challenge, BadChallenge, Challenge};

/// Headers a client can act on.
const GOOD: &[&str] = &[
    // Docker Hub, for a pull of alpine.
    r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
    // A push: two actions, so a comma inside the quotes.
    r#"Bearer realm="http://127.0.0.1:5001/token",service="test",scope="repository:a/b:pull,push""#,
    // Refused for lack of rights: an extra parameter, ignored.
    r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull",error="insufficient_scope""#,
    // No scope: the catalog, or a first request to /v2/.
    r#"Bearer realm="https://quay.io/v2/auth",service="quay.io""#,
    // Bare values, blanks around the commas and the '='.
    "bearer realm=https://r.example/token , service = reg",
    "BEARER Realm=https://r.example/token,SERVICE=reg",
    // Blanks instead of commas, and a trailing comma.
    r#"Bearer realm="https://r.example/token" service="reg","#,
    r#"  Bearer   realm="https://r.example/token"  "#,
    // The same key twice: the last one counts.
    r#"Bearer realm="https://first.example",realm="https://second.example""#,
    r#"Bearer realm="""#,
    r#"Basic realm="Registry Realm""#,
    r#"Basic realm="a \"quoted\" realm""#,
    r#"Basic realm="back\\slash, and \e""#,
    r#"basic realm="x=y, z""#,
    "Basic charset=UTF-8",
    "Basic",
];

/// Headers a client cannot act on.
const BAD: &[&str] = &[
    "",
    "Negotiate abc",
    "Digest realm=\"x\", nonce=\"y\"",
    "Bearers realm=x",
    "Bearer",
    r#"Bearer service="no realm""#,
    r#"Bearer realm="unclosed"#,
    r#"Bearer realm="ends in an escape\"#,
    "Bearer =x",
    "Bearer realm",
    "Bearer realm x",
    r#"Basic realm="a" ,, =b"#,
];

/// The header between backquotes, so that blanks at either end show, then
/// what it becomes.
fn show(header: &str) -> String {
    match parse_challenge(header) {
        Ok(challenge) => format!("`{header}`\n  → {challenge:?}"),
        Err(why) => format!("`{header}`\n  ✗ {why}"),
    }
}

#[test]
fn headers_a_client_can_act_on() {
    let lines: Vec<String> = GOOD.iter().map(|header| show(header)).collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn headers_a_client_cannot_act_on() {
    let lines: Vec<String> = BAD.iter().map(|header| show(header)).collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn docker_hubs_challenge_in_full() {
    let header = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#;
    assert_eq!(
        parse_challenge(header),
        Ok(Challenge::Bearer {
            realm: "https://auth.docker.io/token".into(),
            service: Some("registry.docker.io".into()),
            scope: Some("repository:library/alpine:pull".into()),
        })
    );
    assert_eq!(
        parse_challenge(r#"Bearer service="registry.docker.io""#),
        Err(BadChallenge::NoRealm)
    );
}
