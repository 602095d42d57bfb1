//! The test harness itself, checked against a real client: skopeo pushes
//! to and pulls from each setup of the real registry, and pulls from the
//! fake one whatever its knobs make it do.

// Test helpers may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::http;
use common::{
    assert_cleaned_up, processes_mentioning, sha256_digest, FakeRegistry, Knobs, Registry, Setup,
    Side, TestImage, TokenServer, PASSWORD, USER,
};
use cratebox_testkit::tool;
use serde_json::Value;

/// skopeo and docker-registry, when both are installed.
fn tools() -> Option<PathBuf> {
    let skopeo = tool("skopeo")?;
    tool("docker-registry")?;
    Some(skopeo)
}

/// skopeo's flags to reach `registry` with its credentials or none:
/// `side` is `"dest-"`, `"src-"`, or `""` for inspect.
fn flags(registry: &Registry, certs: &Path, side: &str, anonymous: bool) -> Vec<String> {
    let mut flags = Vec::new();
    match registry.ca_pem() {
        Some(ca) => {
            fs::write(certs.join("ca.crt"), ca).unwrap();
            flags.push(format!("--{side}cert-dir={}", certs.display()));
        }
        None => flags.push(format!("--{side}tls-verify=false")),
    }
    match registry.credentials() {
        Some((user, password)) if !anonymous => {
            flags.push(format!("--{side}creds={user}:{password}"))
        }
        _ => flags.push(format!("--{side}no-creds")),
    }
    flags
}

/// `skopeo ARGS...`, with no trust policy to consult.
fn skopeo(program: &Path, args: &[String]) -> Output {
    Command::new(program)
        .arg("--insecure-policy")
        .args(args)
        .output()
        .unwrap()
}

/// Pushes `image` from an OCI layout to `registry` as harness/test:v1.
fn push(
    program: &Path,
    registry: &Registry,
    work: &Path,
    image: &TestImage,
    anonymous: bool,
) -> Output {
    let layout = work.join("layout");
    image.write_layout(&layout, "v1");
    let mut args = vec!["copy".to_owned()];
    args.extend(flags(registry, work, "dest-", anonymous));
    args.push(format!("oci:{}:v1", layout.display()));
    args.push(format!("docker://{}/harness/test:v1", registry.addr()));
    skopeo(program, &args)
}

/// The manifest bytes of harness/test:v1, as skopeo reads them.
fn inspect_raw(program: &Path, registry: &Registry, work: &Path, anonymous: bool) -> Vec<u8> {
    let mut args = vec!["inspect".to_owned(), "--raw".to_owned()];
    args.extend(flags(registry, work, "", anonymous));
    args.push(format!("docker://{}/harness/test:v1", registry.addr()));
    let out = skopeo(program, &args);
    assert!(
        out.status.success(),
        "inspect: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Pushes a one-layer image and reads it back: the same manifest digest,
/// and the layer where distribution keeps blobs.
fn round_trip(setup: Setup) -> Option<Registry> {
    let program = tools()?;
    let registry = Registry::start(setup);
    let work = tempfile::tempdir().unwrap();
    let image = TestImage::new(&format!("hello from {setup:?}"));
    let out = push(&program, &registry, work.path(), &image, false);
    assert!(
        out.status.success(),
        "push to {setup:?}: {}\nregistry log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        registry.log()
    );
    let raw = inspect_raw(&program, &registry, work.path(), false);
    assert_eq!(sha256_digest(&raw), image.manifest_digest());
    let stored = fs::read(registry.blob_data(&image.layer_digest())).unwrap();
    assert_eq!(stored, image.layer);
    Some(registry)
}

/// Stops `registry` and checks that nothing of it is left: no process,
/// no temp dir, no token server.
fn finish(registry: Registry) {
    let dir = registry.dir();
    assert!(
        !processes_mentioning(&dir).is_empty(),
        "the check sees nothing"
    );
    let token_addr = registry.token_server().map(TokenServer::addr);
    drop(registry);
    assert_cleaned_up(&dir);
    if let Some(addr) = token_addr {
        assert!(TcpStream::connect(addr).is_err(), "token server still up");
    }
}

#[test]
fn plain_registry_takes_a_push_and_gives_it_back() {
    let Some(registry) = round_trip(Setup::Plain) else {
        return;
    };
    let reply = http::get(&registry.addr(), "/v2/", &[]).unwrap();
    assert_eq!(reply.status, 200);
    finish(registry);
}

#[test]
fn tls_registry_is_trusted_through_its_ca() {
    let Some(registry) = round_trip(Setup::Tls) else {
        return;
    };
    assert!(registry
        .ca_pem()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    finish(registry);
}

#[test]
fn basic_registry_wants_the_password() {
    let Some(registry) = round_trip(Setup::Basic) else {
        return;
    };
    let reply = http::get(&registry.addr(), "/v2/", &[]).unwrap();
    assert_eq!(reply.status, 401);
    let challenge = reply.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Basic "), "{challenge}");
    finish(registry);
}

#[test]
fn token_registry_lets_anyone_pull_and_only_the_learner_push() {
    let Some(registry) = round_trip(Setup::Token) else {
        return;
    };
    let program = tools().unwrap();
    let work = tempfile::tempdir().unwrap();
    let tokens = registry.token_server().unwrap();
    let pushed_with = tokens.requests();
    assert!(
        pushed_with.iter().all(|r| r.status == 200),
        "{pushed_with:?}"
    );
    assert!(pushed_with.iter().any(|r| r
        .authorization
        .as_deref()
        .is_some_and(|a| a.starts_with("Basic "))
        && r.target.contains("push")));

    // Anonymous pull: a token without Authorization, granting pull.
    inspect_raw(&program, &registry, work.path(), true);
    let after_pull = tokens.requests();
    assert!(after_pull[pushed_with.len()..]
        .iter()
        .any(|r| r.authorization.is_none()));

    // Anonymous push: the token grants pull only, the registry says no.
    let other = TestImage::new("not welcome");
    let out = push(&program, &registry, work.path(), &other, true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an anonymous push went through");
    assert!(stderr.contains("denied"), "{stderr}");
    assert!(!registry.blob_data(&other.layer_digest()).exists());
    finish(registry);
}

#[test]
fn token_server_turns_away_a_wrong_password() {
    let tokens = TokenServer::start();
    let auth = format!(
        "Basic {}",
        STANDARD.encode(format!("{USER}:not-{PASSWORD}"))
    );
    let reply = http::get(
        &tokens.addr(),
        "/token?service=s&scope=repository:a/b:pull",
        &[("Authorization", &auth)],
    )
    .unwrap();
    assert_eq!(reply.status, 401);
    let body: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
    assert_eq!(tokens.requests()[0].status, 401);
    let addr = tokens.addr();
    drop(tokens);
    assert!(TcpStream::connect(addr).is_err());
}

/// An anonymous pull token for harness/test from the registry's token
/// server, and the claims inside it.
fn pull_token(registry: &Registry) -> (Value, Value) {
    let tokens = registry.token_server().unwrap();
    let target = "/token?service=cratebox-test-registry&scope=repository%3Aharness%2Ftest%3Apull";
    let reply = http::get(&tokens.addr(), target, &[]).unwrap();
    assert_eq!(reply.status, 200);
    let body: Value = serde_json::from_slice(&reply.body).unwrap();
    let payload = body["token"].as_str().unwrap().split('.').nth(1).unwrap();
    let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    (body, claims)
}

/// The status the registry answers a tag list with `token`.
fn status_with(registry: &Registry, token: &Value) -> http::Reply {
    let auth = format!("Bearer {}", token.as_str().unwrap());
    http::get(
        &registry.addr(),
        "/v2/harness/test/tags/list",
        &[("Authorization", &auth)],
    )
    .unwrap()
}

#[test]
fn token_server_can_make_tokens_expire() {
    if tools().is_none() {
        return;
    }
    let registry = Registry::start(Setup::Token);
    let tokens = registry.token_server().unwrap();
    tokens.set_expires_in(7);
    let (body, claims) = pull_token(&registry);
    assert_eq!(body["expires_in"], 7);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        7
    );
    assert_eq!(claims["access"][0]["name"], "harness/test");
    assert_eq!(claims["access"][0]["actions"], serde_json::json!(["pull"]));
    // Accepted: the repository is unknown, which only an authorized
    // caller learns.
    assert_eq!(
        status_with(&registry, &body["token"]).status,
        404,
        "{}",
        registry.log()
    );

    tokens.set_issue_expired(true);
    let (body, _) = pull_token(&registry);
    let refused = status_with(&registry, &body["token"]);
    assert_eq!(refused.status, 401);
    let challenge = refused.header("www-authenticate").unwrap();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    finish(registry);
}

/// A fake serving a one-layer image as fake/image:v1.
fn fake_with_image(knobs: Knobs) -> (FakeRegistry, TestImage) {
    let fake = FakeRegistry::start(knobs);
    let image = TestImage::new("hello from the fake");
    image.serve(&fake, "fake/image", "v1");
    (fake, image)
}

#[test]
fn fake_redirects_blobs_to_a_second_host_that_sees_no_credentials() {
    let Some(program) = tool("skopeo") else {
        return;
    };
    let knobs = Knobs {
        basic: Some((USER.to_owned(), PASSWORD.to_owned())),
        redirect_blobs: true,
        ..Knobs::default()
    };
    let (fake, image) = fake_with_image(knobs);
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("copy");
    let args = [
        "copy".to_owned(),
        "--src-tls-verify=false".to_owned(),
        format!("--src-creds={USER}:{PASSWORD}"),
        format!("docker://{}/fake/image:v1", fake.addr()),
        format!("oci:{}:v1", dest.display()),
    ];
    let out = skopeo(&program, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hex = image.manifest_digest().replace("sha256:", "");
    assert_eq!(
        fs::read(dest.join("blobs/sha256").join(hex)).unwrap(),
        image.manifest
    );

    let seen = fake.requests();
    let second: Vec<_> = seen.iter().filter(|s| s.side == Side::Second).collect();
    assert_eq!(second.len(), 2, "config and layer: {seen:#?}");
    assert!(
        second.iter().all(|s| s.authorization.is_none()),
        "{second:#?}"
    );
    assert!(seen
        .iter()
        .any(|s| s.side == Side::Front && s.authorization.is_some()));
    let addr = fake.addr();
    drop(fake);
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn fake_cuts_a_blob_once_and_serves_the_rest_by_range() {
    let (fake, image) = fake_with_image(Knobs {
        cut_blob_once: Some(100),
        ..Knobs::default()
    });
    let path = format!("/v2/fake/image/blobs/{}", image.layer_digest());
    let cut = http::get(&fake.addr(), &path, &[]).unwrap();
    assert_eq!(cut.status, 200);
    assert_eq!(
        cut.header("content-length"),
        Some(image.layer.len().to_string().as_str())
    );
    assert_eq!(cut.body, image.layer[..100]);

    let rest = http::get(&fake.addr(), &path, &[("Range", "bytes=100-")]).unwrap();
    assert_eq!(rest.status, 206);
    let range = format!("bytes 100-{}/{}", image.layer.len() - 1, image.layer.len());
    assert_eq!(rest.header("content-range"), Some(range.as_str()));
    assert_eq!(rest.body, image.layer[100..]);

    let again = http::get(&fake.addr(), &path, &[]).unwrap();
    assert_eq!(again.body, image.layer, "cut once only");
}

#[test]
fn fake_fails_the_first_requests_for_each_blob() {
    let (fake, image) = fake_with_image(Knobs {
        fail_first: 2,
        ..Knobs::default()
    });
    let addr = fake.addr();
    let get =
        |digest: &str| http::get(&addr, &format!("/v2/fake/image/blobs/{digest}"), &[]).unwrap();
    let statuses: Vec<u16> = (0..3).map(|_| get(&image.layer_digest()).status).collect();
    assert_eq!(statuses, [503, 503, 200]);
    assert_eq!(get(&image.config_digest()).status, 503, "counted per blob");
    assert_eq!(get(&image.layer_digest()).body, image.layer);
}

#[test]
fn fake_answers_manifests_like_distribution() {
    let (fake, image) = fake_with_image(Knobs::default());
    let head = http::request("HEAD", &fake.addr(), "/v2/fake/image/manifests/v1", &[]).unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("docker-content-digest"),
        Some(image.manifest_digest().as_str())
    );
    assert_eq!(
        head.header("content-type"),
        Some(common::image::MANIFEST_TYPE)
    );
    assert!(head.body.is_empty());

    let by_digest = format!("/v2/fake/image/manifests/{}", image.manifest_digest());
    assert_eq!(
        http::get(&fake.addr(), &by_digest, &[]).unwrap().body,
        image.manifest
    );

    let missing = http::get(&fake.addr(), "/v2/fake/image/manifests/v2", &[]).unwrap();
    assert_eq!(missing.status, 404);
    let body: Value = serde_json::from_slice(&missing.body).unwrap();
    assert_eq!(body["errors"][0]["code"], "MANIFEST_UNKNOWN");
}
