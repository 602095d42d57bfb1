//! One registry, spoken to over HTTP: the `/v2/` ping, the token dance,
//! redirects, retries.
//!
//! ```text
//! client                          registry                  token server
//!   │ GET /v2/                        │                          │
//!   │◄── 401 WWW-Authenticate: Bearer realm=…,service=…         │
//!   │ GET /v2/app/manifests/v1        │                          │
//!   │     (no token yet for repository:app:pull)                 │
//!   │ GET realm?service=…&scope=repository:app:pull ────────────►│
//!   │◄──────────────────────────────── {"token": "eyJ…", "expires_in": 300}
//!   │ GET /v2/app/manifests/v1        │                          │
//!   │     Authorization: Bearer eyJ…  │                          │
//!   │◄── 200 the manifest             │                          │
//! ```
//!
//! Every request names the *scope* it needs (`repository:NAME:pull`, or
//! `pull,push`); tokens are kept per scope until they expire, and one
//! refused with 401 is fetched again once. A redirect to another host (blob
//! storage, a CDN) is followed without the `Authorization` header: the
//! token is for the registry, and sending it elsewhere would give it away.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;
pub use ureq::http::Method;
use ureq::http::{self, Response, StatusCode, Uri};
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::Body;

use crate::challenge::{parse_challenge, Challenge};
use crate::error::RegistryError;
use crate::settings::{Credentials, Settings};

/// How many times a request is tried when the network or the registry
/// fails (connection refused or cut, 5xx, 429), waiting twice as long
/// after each failure.
pub const ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_REDIRECTS: usize = 5;

/// A client for one registry.
#[derive(Debug)]
pub struct Client {
    agent: ureq::Agent,
    /// `https://127.0.0.1:5000` (no trailing slash).
    base: String,
    /// The registry as named: `docker.io`, `127.0.0.1:5000`.
    registry: String,
    /// The host and port the requests go to.
    authority: String,
    credentials: Option<Credentials>,
    auth: Mutex<Auth>,
}

/// What the ping found the registry wants.
#[derive(Debug)]
enum Auth {
    /// Nothing: every request goes through.
    Open,
    /// The user name and password with every request.
    Basic,
    /// Tokens from `realm`, one per scope.
    Bearer {
        realm: String,
        service: Option<String>,
        tokens: HashMap<String, Token>,
    },
}

#[derive(Debug, Clone)]
struct Token {
    value: Arc<str>,
    expires: Instant,
}

/// A token server's answer (docker's `token`, or OAuth's `access_token`).
#[derive(Debug, Deserialize)]
struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

/// One request to make.
#[derive(Debug)]
pub struct Request<'a> {
    /// GET, HEAD, PUT, ...
    pub method: Method,
    /// A path on the registry (`/v2/...`) or an absolute URL (an upload's
    /// `Location`).
    pub url: String,
    /// What the request needs, e.g. `repository:app:pull`.
    pub scope: &'a str,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// The body (empty for none).
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    /// A request without body or headers.
    pub fn new(method: Method, url: impl Into<String>, scope: &'a str) -> Request<'a> {
        Request {
            method,
            url: url.into(),
            scope,
            headers: Vec::new(),
            body: &[],
        }
    }

    /// With one more header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Request<'a> {
        self.headers.push((name, value.into()));
        self
    }

    /// With a body.
    pub fn body(mut self, body: &'a [u8]) -> Request<'a> {
        self.body = body;
        self
    }
}

impl Client {
    // ANCHOR: connect
    /// Reach `registry` at `endpoint` (docker.io's API host differs from
    /// its name), and learn from `GET /v2/` how it wants to be
    /// authenticated. HTTPS, unless the settings list it as insecure; its
    /// CA from `certs.d` when there is one there.
    pub fn connect(
        registry: &str,
        endpoint: &str,
        settings: &Settings,
    ) -> Result<Client, RegistryError> {
        let insecure = settings.insecure(registry)?;
        let scheme = if insecure { "http" } else { "https" };
        let mut tls = TlsConfig::builder();
        let cas = settings.ca_certificates(registry)?;
        if !cas.is_empty() {
            let mut certificates = Vec::new();
            for (path, pem) in &cas {
                let certificate = Certificate::from_pem(pem).map_err(|e| RegistryError::Setup {
                    registry: registry.to_string(),
                    why: format!("{} is not a PEM certificate: {e}", path.display()),
                })?;
                certificates.push(certificate);
            }
            tls = tls.root_certs(RootCerts::new_with_certs(&certificates));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .tls_config(tls.build())
            .user_agent(concat!("cratebox/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_recv_body(None)
            .build();
        let mut client = Client {
            agent: ureq::Agent::new_with_config(config),
            base: format!("{scheme}://{endpoint}"),
            registry: registry.to_string(),
            authority: endpoint.to_string(),
            credentials: settings.credentials(registry)?,
            auth: Mutex::new(Auth::Open),
        };
        client.ping()?;
        Ok(client)
    }
    // ANCHOR_END: connect

    /// The registry as named.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// Use these credentials rather than the stored ones (`login`).
    pub fn with_credentials(mut self, credentials: Credentials) -> Client {
        self.credentials = Some(credentials);
        self
    }

    /// `GET /v2/`: 200 for an open registry, 401 with a challenge otherwise.
    fn ping(&mut self) -> Result<(), RegistryError> {
        let url = format!("{}/v2/", self.base);
        let response = self.send_once(&Method::GET, &url, &[], &[], None)?;
        let auth = match response.status() {
            StatusCode::OK => Auth::Open,
            StatusCode::UNAUTHORIZED => {
                let header = header(&response, "www-authenticate").unwrap_or_default();
                match parse_challenge(&header)? {
                    Challenge::Basic { .. } => Auth::Basic,
                    Challenge::Bearer { realm, service, .. } => Auth::Bearer {
                        realm,
                        service,
                        tokens: HashMap::new(),
                    },
                }
            }
            status => {
                return Err(RegistryError::Protocol {
                    registry: self.registry.clone(),
                    why: format!("GET /v2/ answered {status}: is this a registry?"),
                })
            }
        };
        *self.lock_auth() = auth;
        Ok(())
    }

    /// Check the credentials now (`login`): for Basic, `/v2/` with them; for
    /// Bearer, a token with no scope.
    pub fn check_login(&self) -> Result<(), RegistryError> {
        let bearer = matches!(*self.lock_auth(), Auth::Bearer { .. });
        if bearer {
            self.token("")?;
            return Ok(());
        }
        let response = self.send(Request::new(Method::GET, "/v2/", ""))?;
        match response.status() {
            StatusCode::OK => Ok(()),
            _ => Err(self.refused(response)),
        }
    }

    fn lock_auth(&self) -> std::sync::MutexGuard<'_, Auth> {
        self.auth
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    // ANCHOR: send
    /// Make `request`: with the authorization its scope needs, following
    /// redirects (dropping authorization when they leave the registry's
    /// host), fetching a fresh token once on a 401, and retrying with
    /// back-off when the network or the registry fails. Any other status is
    /// returned for the caller to judge.
    pub fn send(&self, request: Request<'_>) -> Result<Response<Body>, RegistryError> {
        let mut url = self.absolute(&request.url);
        let mut refreshed = false;
        let mut redirects = 0;
        let mut attempt = 0;
        loop {
            let ours = authority_of(&url).as_deref() == Some(self.authority.as_str());
            let authorization = if ours {
                self.authorization(request.scope)?
            } else {
                None
            };
            let outcome = self.send_once(
                &request.method,
                &url,
                &request.headers,
                request.body,
                authorization.as_deref(),
            );
            let status = outcome.as_ref().map(|r| r.status()).ok();
            // Only what can be sent twice without harm is sent again: a
            // PATCH repeated would append its chunk twice.
            let idempotent = matches!(request.method, Method::GET | Method::HEAD | Method::PUT);
            let retryable = idempotent
                && match &outcome {
                    Err(_) => true,
                    Ok(r) => {
                        r.status().is_server_error() || r.status() == StatusCode::TOO_MANY_REQUESTS
                    }
                };
            if retryable && attempt + 1 < ATTEMPTS {
                std::thread::sleep(FIRST_BACKOFF * 2u32.pow(attempt));
                attempt += 1;
                continue;
            }
            let response = outcome?;
            if status == Some(StatusCode::UNAUTHORIZED)
                && ours
                && !refreshed
                && self.forget_token(request.scope)
            {
                refreshed = true;
                continue;
            }
            if response.status().is_redirection() && redirects < MAX_REDIRECTS {
                if let Some(location) = header(&response, "location") {
                    url = resolve(&url, &location);
                    redirects += 1;
                    continue;
                }
            }
            return Ok(response);
        }
    }
    // ANCHOR_END: send

    /// After a 401 with a token in hand: drop it, so that the next try
    /// fetches a new one. False when there was none (Basic, or no token).
    fn forget_token(&self, scope: &str) -> bool {
        match &mut *self.lock_auth() {
            Auth::Bearer { tokens, .. } => tokens.remove(scope).is_some(),
            _ => false,
        }
    }

    /// The `Authorization` header for `scope`, fetching a token if needed.
    fn authorization(&self, scope: &str) -> Result<Option<String>, RegistryError> {
        let basic = matches!(*self.lock_auth(), Auth::Basic);
        if basic {
            return Ok(self.credentials.as_ref().map(basic_header));
        }
        if matches!(*self.lock_auth(), Auth::Open) {
            return Ok(None);
        }
        Ok(Some(format!("Bearer {}", self.token(scope)?)))
    }

    // ANCHOR: token
    /// A token for `scope`: the one kept if it has not expired, else a new
    /// one from the realm, asked for with the credentials when there are
    /// some and anonymously when not.
    // ANCHOR: token_ask
    fn token(&self, scope: &str) -> Result<Arc<str>, RegistryError> {
        let (realm, service) = match &*self.lock_auth() {
            Auth::Bearer {
                realm,
                service,
                tokens,
            } => {
                if let Some(token) = tokens.get(scope).filter(|t| t.expires > Instant::now()) {
                    return Ok(token.value.clone());
                }
                (realm.clone(), service.clone())
            }
            _ => return Err(self.protocol("asked for a token where none is used")),
        };
        let mut query = Vec::new();
        if let Some(service) = &service {
            query.push(format!("service={}", encode(service)));
        }
        for one in scope.split_whitespace() {
            query.push(format!("scope={}", encode(one)));
        }
        if let Some(credentials) = &self.credentials {
            query.push(format!("account={}", encode(&credentials.user)));
        }
        let separator = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{separator}{}", query.join("&"));
        let authorization = self.credentials.as_ref().map(basic_header);
        let started = Instant::now();
        let mut response =
            self.send_once(&Method::GET, &url, &[], &[], authorization.as_deref())?;
        if !response.status().is_success() {
            return Err(self.refused(response));
        }
        // ANCHOR_END: token_ask
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| self.protocol(&format!("cannot read the token server's answer: {e}")))?;
        let answer: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| self.protocol(&format!("the token server's answer is not JSON: {e}")))?;
        let value: Arc<str> = answer
            .token
            .or(answer.access_token)
            .ok_or_else(|| self.protocol("the token server's answer has no token"))?
            .into();
        // The spec's default lifetime is 60 s; keep a margin for the
        // time the request took.
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(60));
        let expires = started + lifetime.saturating_sub(Duration::from_millis(500));
        if let Auth::Bearer { tokens, .. } = &mut *self.lock_auth() {
            tokens.insert(
                scope.to_string(),
                Token {
                    value: value.clone(),
                    expires,
                },
            );
        }
        Ok(value)
    }
    // ANCHOR_END: token

    /// One HTTP exchange, no retries.
    fn send_once(
        &self,
        method: &Method,
        url: &str,
        headers: &[(&'static str, String)],
        body: &[u8],
        authorization: Option<&str>,
    ) -> Result<Response<Body>, RegistryError> {
        let mut builder = http::Request::builder().method(method.clone()).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        if let Some(authorization) = authorization {
            builder = builder.header("authorization", authorization);
        }
        let request = builder
            .body(body.to_vec())
            .map_err(|e| self.protocol(&format!("cannot make a request for {url}: {e}")))?;
        self.agent
            .run(request)
            .map_err(|source| RegistryError::Unreachable {
                registry: self.registry.clone(),
                url: url.to_string(),
                why: describe(&source),
            })
    }

    /// `/v2/...` on this registry, or an absolute URL as is.
    pub fn absolute(&self, url: &str) -> String {
        if url.starts_with("http://") || url.starts_with("https://") {
            url.to_string()
        } else {
            format!("{}{url}", self.base)
        }
    }

    /// The error for a response that refused the request: docker's words
    /// for 401 ("unauthorized: ..."), the registry's own error otherwise.
    pub fn refused(&self, mut response: Response<Body>) -> RegistryError {
        let status = response.status();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 10)
            .read_to_string()
            .unwrap_or_default();
        let (code, message) = first_error(&body);
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return RegistryError::Unauthorized {
                registry: self.registry.clone(),
                message: message.unwrap_or_else(|| "authentication required".into()),
            };
        }
        RegistryError::Api {
            registry: self.registry.clone(),
            status: status.as_u16(),
            code: code.unwrap_or_default(),
            message: message.unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_string()),
        }
    }

    fn protocol(&self, why: &str) -> RegistryError {
        RegistryError::Protocol {
            registry: self.registry.clone(),
            why: why.to_string(),
        }
    }
}

/// `Basic base64(user:password)`.
fn basic_header(credentials: &Credentials) -> String {
    let pair = format!("{}:{}", credentials.user, credentials.password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// A header's value as text.
pub fn header(response: &Response<Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The first `{"errors": [{"code", "message"}]}` of a registry's answer.
fn first_error(body: &str) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return (None, None);
    };
    let first = &value["errors"][0];
    let text = |field: &str| {
        first[field]
            .as_str()
            .map(|s| s.to_lowercase().replace('_', " "))
    };
    (
        first["code"].as_str().map(str::to_string),
        text("message").or_else(|| text("code")),
    )
}

/// The `host:port` of a URL.
fn authority_of(url: &str) -> Option<String> {
    let uri: Uri = url.parse().ok()?;
    let authority = uri.authority()?;
    Some(match authority.port() {
        Some(_) => authority.as_str().to_string(),
        None => authority.host().to_string(),
    })
}

/// Where a `Location` header leads from `base`.
fn resolve(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    let Ok(uri) = base.parse::<Uri>() else {
        return location.to_string();
    };
    let origin = format!(
        "{}://{}",
        uri.scheme_str().unwrap_or("https"),
        uri.authority().map(|a| a.as_str()).unwrap_or_default()
    );
    if location.starts_with('/') {
        format!("{origin}{location}")
    } else {
        let path = uri.path();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        format!("{origin}{dir}{location}")
    }
}

/// Percent-encode a query value.
fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A transport error in a few words, with the fix for a TLS one.
fn describe(error: &ureq::Error) -> String {
    let text = error.to_string();
    if text.contains("InvalidContentType") || text.contains("corrupt message") {
        // What comes back from an HTTPS hello sent to a plain HTTP server.
        format!("{text} (it does not speak TLS: if it is a plain HTTP registry, list it in insecure-registries in daemon.json)")
    } else if text.contains("certificate") || text.contains("Tls") || text.contains("tls") {
        format!("{text} (put the registry's CA in certs.d/HOST/ca.crt)")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            authority_of("https://127.0.0.1:5000/v2/").as_deref(),
            Some("127.0.0.1:5000")
        );
        assert_eq!(
            authority_of("https://registry-1.docker.io/v2/").as_deref(),
            Some("registry-1.docker.io")
        );
        assert_eq!(
            resolve(
                "http://a:1/v2/x/blobs/uploads/",
                "/v2/x/blobs/uploads/u1?_state=s"
            ),
            "http://a:1/v2/x/blobs/uploads/u1?_state=s"
        );
        assert_eq!(
            resolve("http://a:1/v2/x/", "http://b:2/data"),
            "http://b:2/data"
        );
        assert_eq!(resolve("http://a:1/v2/x/y", "z"), "http://a:1/v2/x/z");
        assert_eq!(
            encode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
        assert_eq!(
            first_error(
                r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#
            ),
            (
                Some("MANIFEST_UNKNOWN".into()),
                Some("manifest unknown".into())
            )
        );
    }
}
