//! Registries that lie, break or misbehave: each pull is refused with the
//! reason named, or survives what it should, and a refused one leaves the
//! store exactly as it was.

// Helpers outside test functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::Path;

use common::image::{tar_with_file, tar_with_raw_name, MANIFEST_TYPE};
use common::lab::{setup, Lab};
use common::{FakeRegistry, Knobs, Registry, Setup, Side, TestImage, PASSWORD, USER};
use cratebox_testkit::{run_tool, tool};

/// Pull `name`, expect a one-line refusal containing `words`, and the
/// store as it was before.
fn refused(lab: &Lab, name: &str, words: &[&str]) -> String {
    lab.ok(&["images"]);
    let before = lab.store_state();
    let error = lab.fails(&["pull", name]);
    for word in words {
        assert!(error.contains(word), "{error:?} should name {word:?}");
    }
    assert_eq!(
        lab.store_state(),
        before,
        "a refused pull leaves nothing: {error}"
    );
    error
}

/// Whether any file under `dir` is named `name`.
fn anywhere(dir: &Path, name: &str) -> bool {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            entry.file_name() == name
                || (entry.file_type().is_ok_and(|t| t.is_dir()) && anywhere(&entry.path(), name))
        })
}

#[test]
fn a_blob_tampered_with_in_the_registry_is_refused_by_its_digest() {
    let Some((_turn, lab)) = setup() else {
        return;
    };
    let registry = Registry::start(Setup::Plain);
    lab.trust(&registry);
    let image = TestImage::new("the real content\n");
    let layout = tempfile::tempdir().unwrap();
    image.write_layout(layout.path(), "v1");
    let name = format!("{}/victim/app:v1", registry.addr());
    run_tool(
        &tool("skopeo").unwrap(),
        &[
            "--insecure-policy",
            "copy",
            "--dest-tls-verify=false",
            &format!("oci:{}:v1", layout.path().display()),
            &format!("docker://{name}"),
        ],
    );
    // Someone with access to the registry's disk swaps the layer for
    // another gzipped tar, of a file of their own.
    let other = TestImage::new("the attacker's content\n");
    fs::write(registry.blob_data(&image.layer_digest()), &other.layer).unwrap();
    refused(
        &lab,
        &name,
        &[&image.layer_digest(), "does not match its digest"],
    );
    // The unknown tag, docker's words.
    let error = refused(&lab, &format!("{}/victim/app:nope", registry.addr()), &[]);
    assert_eq!(
        error,
        format!("ch08-registry: manifest for {}/victim/app:nope not found: manifest unknown: manifest unknown", registry.addr())
    );
    drop(registry);
    lab.finish();
}

#[test]
fn a_manifest_over_4_mib_and_a_layer_with_dotdot_are_refused() {
    let Some((_turn, lab)) = setup() else {
        return;
    };
    let fake = FakeRegistry::start(Knobs::default());
    lab.insecure(&[&fake.addr()]);
    let huge = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"{MANIFEST_TYPE}\",\"pad\":\"{}\"}}",
        "x".repeat(5 << 20)
    );
    fake.add_manifest("big/app", "v1", MANIFEST_TYPE, huge.as_bytes());
    refused(
        &lab,
        &format!("{}/big/app:v1", fake.addr()),
        &["is over 4194304 bytes"],
    );

    let escape = TestImage::from_tar(
        &tar_with_raw_name("../outside-the-layer", b"out of the layer\n"),
        "amd64",
        None,
    );
    escape.serve(&fake, "evil/app", "v1");
    refused(
        &lab,
        &format!("{}/evil/app:v1", fake.addr()),
        &[&escape.layer_digest(), "outside-the-layer"],
    );
    // (The demo image has a program called `escape`: hence the long name.)
    assert!(
        !anywhere(lab.root(), "outside-the-layer"),
        "nothing was written outside the layer"
    );
    drop(fake);
    lab.finish();
}

#[test]
fn a_redirect_to_another_host_gets_no_credentials() {
    let Some((_turn, lab)) = setup() else {
        return;
    };
    let fake = FakeRegistry::start(Knobs {
        basic: Some((USER.into(), PASSWORD.into())),
        redirect_blobs: true,
        ..Knobs::default()
    });
    lab.insecure(&[&fake.addr()]);
    let out = lab.run_with_stdin(
        &["login", "-u", USER, "--password-stdin", &fake.addr()],
        PASSWORD,
    );
    assert_eq!(out.code, 0, "{out:?}");
    let image = TestImage::new("served from blob storage\n");
    image.serve(&fake, "cdn/app", "v1");
    lab.ok(&["pull", &format!("{}/cdn/app:v1", fake.addr())]);
    let seen = fake.requests();
    let second: Vec<_> = seen
        .iter()
        .filter(|s| matches!(s.side, Side::Second))
        .collect();
    assert_eq!(
        second.len(),
        2,
        "the config and the layer came from the second host: {seen:?}"
    );
    assert!(
        second.iter().all(|s| s.authorization.is_none()),
        "no credentials left the registry: {seen:?}"
    );
    assert!(
        seen.iter()
            .filter(|s| matches!(s.side, Side::Front) && s.path.contains("/blobs/"))
            .all(|s| s
                .authorization
                .as_deref()
                .is_some_and(|a| a.starts_with("Basic "))),
        "the registry itself got them: {seen:?}"
    );
    drop(fake);
    lab.finish();
}

#[test]
fn a_cut_connection_resumes_and_failures_are_retried() {
    let Some((_turn, lab)) = setup() else {
        return;
    };
    // Layers big enough to cut: 64 KiB of text that does not compress away.
    let numbers = |step: u64| -> TestImage {
        let text: String = (0..8000u64)
            .map(|n| format!("{:07}\n", n * step % 10_000_000))
            .collect();
        TestImage::from_tar(&tar_with_file("numbers", text.as_bytes()), "amd64", None)
    };
    let (image, other) = (numbers(7919), numbers(104_729));
    assert!(image.layer.len() > 8192, "{}", image.layer.len());

    let cutting = FakeRegistry::start(Knobs {
        cut_blob_once: Some(4096),
        ..Knobs::default()
    });
    let failing = FakeRegistry::start(Knobs {
        fail_first: 2,
        ..Knobs::default()
    });
    lab.insecure(&[&cutting.addr(), &failing.addr()]);
    image.serve(&cutting, "cut/app", "v1");
    other.serve(&failing, "flaky/app", "v1");

    lab.ok(&["pull", &format!("{}/cut/app:v1", cutting.addr())]);
    let layer = format!("/v2/cut/app/blobs/{}", image.layer_digest());
    let ranges: Vec<_> = cutting
        .requests()
        .into_iter()
        .filter(|s| s.path == layer)
        .map(|s| s.range)
        .collect();
    assert_eq!(
        ranges,
        [None, Some("bytes=4096-".to_string())],
        "one cut, one resumption from byte 4096"
    );

    lab.ok(&["pull", &format!("{}/flaky/app:v1", failing.addr())]);
    let tries = failing
        .requests()
        .iter()
        .filter(|s| s.path == format!("/v2/flaky/app/blobs/{}", other.layer_digest()))
        .count();
    assert_eq!(tries, 3, "two 503s, then the blob");
    drop((cutting, failing));
    lab.finish();
}
