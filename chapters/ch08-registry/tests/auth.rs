//! Registries that want something first: a CA to trust, a password, a
//! token. Each is the test's own, on 127.0.0.1.

// Helpers outside test functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::time::Duration;

use common::lab::{pulled_digest, pushed_digest, setup, Lab};
use common::{Registry, Setup, PASSWORD, USER};
use cratebox_registry::client::{Client, Method, Request};
use cratebox_registry::settings::{Credentials, Settings};

/// Push the demo image as `repo:v1`; its digest.
fn push_demo(lab: &Lab, registry: &Registry, repo: &str) -> String {
    let name = format!("{}/{repo}:v1", registry.addr());
    lab.ok(&["tag", "demo", &name]);
    pushed_digest(&lab.ok(&["push", &name]))
}

#[test]
fn tls_with_the_registry_ca_in_certs_d() {
    let Some((_turn, lab)) = setup() else {
        return;
    };
    let registry = Registry::start(Setup::Tls);
    let name = format!("{}/secure/demo:v1", registry.addr());
    lab.ok(&["tag", "demo", &name]);
    // Not trusted yet: the certificate is refused, and the error says what to do.
    let error = lab.fails(&["push", &name]);
    assert!(error.contains("certs.d/HOST/ca.crt"), "{error}");
    lab.trust(&registry);
    let digest = pushed_digest(&lab.ok(&["push", &name]));
    lab.ok(&["rmi", &name]);
    assert_eq!(pulled_digest(&lab.ok(&["pull", &name])), digest);
    drop(registry);
    lab.finish();
}

#[test]
fn plain_http_only_when_listed_as_insecure() {
    let Some((_turn, lab)) = setup() else {
        return;
    };
    let registry = Registry::start(Setup::Plain);
    let name = format!("{}/plain/demo:v1", registry.addr());
    lab.ok(&["tag", "demo", &name]);
    let error = lab.fails(&["push", &name]);
    assert!(error.contains("insecure-registries"), "{error}");
    lab.trust(&registry);
    lab.ok(&["push", &name]);
    drop(registry);
    lab.finish();
}

#[test]
fn basic_auth_login_push_pull_logout() {
    let Some((_turn, lab)) = setup() else {
        return;
    };
    let registry = Registry::start(Setup::Basic);
    lab.trust(&registry);
    let name = format!("{}/private/demo:v1", registry.addr());
    lab.ok(&["tag", "demo", &name]);
    let error = lab.fails(&["push", &name]);
    assert!(
        error.starts_with("ch08-registry: unauthorized: "),
        "{error}"
    );

    // A wrong password: refused, and nothing written.
    let out = lab.run_with_stdin(
        &["login", "-u", USER, "--password-stdin", &registry.addr()],
        "wrong\n",
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.starts_with("ch08-registry: unauthorized: "),
        "{out:?}"
    );
    assert!(
        !lab.config_json().exists(),
        "a refused login writes nothing"
    );
    // No terminal and no --password-stdin: a clear refusal.
    let error = lab.fails(&["login", "-u", USER, &registry.addr()]);
    assert!(error.contains("--password-stdin"), "{error}");

    lab.login(&registry);
    assert_eq!(lab.config_mode(), 0o600);
    let config: serde_json::Value =
        serde_json::from_slice(&fs::read(lab.config_json()).unwrap()).unwrap();
    let auth = config["auths"][registry.addr()]["auth"].as_str().unwrap();
    assert_eq!(
        auth, "bGVhcm5lcjpzZWNyZXQtd29yZA==",
        "base64 of {USER}:{PASSWORD}, as docker writes it"
    );

    let digest = pushed_digest(&lab.ok(&["push", &name]));
    lab.ok(&["rmi", &name]);
    assert_eq!(pulled_digest(&lab.ok(&["pull", &name])), digest);

    assert_eq!(
        lab.ok(&["logout", &registry.addr()]),
        format!("Removing login credentials for {}\n", registry.addr())
    );
    lab.ok(&["rmi", &name]);
    let error = lab.fails(&["pull", &name]);
    assert!(error.contains("unauthorized"), "{error}");

    // A login docker made is used too.
    let docker = lab.config.path().join("docker");
    fs::create_dir_all(&docker).unwrap();
    fs::write(
        docker.join("config.json"),
        serde_json::json!({"auths": {registry.addr(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    assert_eq!(pulled_digest(&lab.ok(&["pull", &name])), digest);
    drop(registry);
    lab.finish();
}

#[test]
fn bearer_tokens_anonymous_and_logged_in() {
    let Some((_turn, lab)) = setup() else {
        return;
    };
    let registry = Registry::start(Setup::Token);
    lab.trust(&registry);
    let tokens = registry.token_server().unwrap();
    let name = format!("{}/tokens/demo:v1", registry.addr());
    lab.ok(&["tag", "demo", &name]);
    // Anonymous tokens only pull.
    let error = lab.fails(&["push", &name]);
    assert!(
        error.contains("unauthorized") || error.contains("denied"),
        "{error}"
    );
    lab.login(&registry);
    let digest = pushed_digest(&lab.ok(&["push", &name]));
    let asked = tokens.requests();
    assert!(
        asked.iter().any(|r| r
            .target
            .contains("scope=repository%3Atokens%2Fdemo%3Apull%2Cpush")
            && r.authorization
                .as_deref()
                .is_some_and(|a| a.starts_with("Basic "))),
        "a push token asked for with the login: {asked:?}"
    );
    lab.ok(&["logout", &registry.addr()]);
    lab.ok(&["rmi", &name]);
    assert_eq!(
        pulled_digest(&lab.ok(&["pull", &name])),
        digest,
        "an anonymous pull"
    );
    let last = tokens.requests().pop().unwrap();
    assert!(
        last.authorization.is_none() && last.target.contains("%3Apull"),
        "{last:?}"
    );

    // A wrong password is refused by the token server.
    let out = lab.run_with_stdin(
        &["login", "-u", USER, "--password-stdin", &registry.addr()],
        "nope",
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("unauthorized: wrong user name or password"),
        "{out:?}"
    );
    drop(registry);
    lab.finish();
}

#[test]
fn a_token_is_fetched_again_once_it_expires() {
    let Some((_turn, lab)) = setup() else {
        return;
    };
    let registry = Registry::start(Setup::Token);
    lab.trust(&registry);
    lab.login(&registry);
    push_demo(&lab, &registry, "expiring/demo");
    let tokens = registry.token_server().unwrap();
    tokens.set_expires_in(1);
    let settings = Settings::in_dir(lab.config.path());
    let client = Client::connect(&registry.addr(), &registry.addr(), &settings)
        .unwrap()
        .with_credentials(Credentials {
            user: USER.into(),
            password: PASSWORD.into(),
        });
    let scope = "repository:expiring/demo:pull";
    let manifest = || {
        let request = Request::new(Method::HEAD, "/v2/expiring/demo/manifests/v1", scope)
            .header("accept", "application/vnd.oci.image.manifest.v1+json");
        client.send(request).unwrap().status().as_u16()
    };
    let before = tokens.requests().len();
    assert_eq!(manifest(), 200);
    assert_eq!(manifest(), 200);
    assert_eq!(
        tokens.requests().len(),
        before + 1,
        "the token is kept while it is valid"
    );
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(manifest(), 200);
    assert_eq!(
        tokens.requests().len(),
        before + 2,
        "and fetched again once it expired"
    );
    drop(client);
    drop(registry);
    lab.finish();
}
