//! A token server as distribution's `auth.token` expects one: `GET /token`
//! answers a JWT signed with ES256, whose `x5c` header carries the signing
//! certificate the registry finds in its `rootcertbundle`.
//!
//! Tried against distribution 2.8: it takes the signing key either from
//! `x5c` (checked against the bundle) or by `kid` (libtrust's key ID of a
//! bundle certificate's key); this server sends `x5c`. It accepts a token
//! until 60 s after its `exp` ([`REGISTRY_LEEWAY`]): a token that says
//! `expires_in: 1` still works a minute later. To have the registry refuse
//! a token at once, use [`TokenServer::set_issue_expired`].

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

use super::http::{Request, Response, Server};
use super::{ISSUER, PASSWORD, USER};

/// How long after a token's `exp` distribution 2.8 still accepts it.
pub const REGISTRY_LEEWAY: Duration = Duration::from_secs(60);

/// One request the token server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// Path and query as sent, e.g. `/token?scope=...&service=...`.
    pub target: String,
    /// The `Authorization` header, if one came.
    pub authorization: Option<String>,
    /// The status answered: 200, 401 for wrong credentials, 404.
    pub status: u16,
}

/// The key that signs tokens and its self-signed certificate.
#[derive(Debug)]
struct Signer {
    key: EcdsaKeyPair,
    cert_der: Vec<u8>,
    cert_pem: String,
}

impl Signer {
    fn new() -> Signer {
        let key = rcgen::KeyPair::generate().expect("an ECDSA P-256 key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "cratebox test token signer");
        let cert = params.self_signed(&key).expect("a self-signed certificate");
        let rng = SystemRandom::new();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.serialize_der(), &rng)
                .expect("ring takes rcgen's PKCS#8");
        Signer {
            key,
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
        }
    }

    /// `header.claims.signature`, each part base64url without padding.
    fn sign(&self, claims: &Value) -> String {
        let header =
            json!({"typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(&self.cert_der)]});
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&SystemRandom::new(), signed.as_bytes())
            .expect("ECDSA signing");
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

/// What the server thread and the test share.
#[derive(Debug)]
struct State {
    signer: Signer,
    expires_in: AtomicU64,
    issue_expired: AtomicBool,
    issued: AtomicU64,
    requests: Mutex<Vec<TokenRequest>>,
}

/// A token server on 127.0.0.1, stopped when dropped.
///
/// With Basic credentials `learner:secret-word` it grants every action
/// asked for; with none, only `pull`; with wrong ones it answers 401.
#[derive(Debug)]
pub struct TokenServer {
    state: Arc<State>,
    server: Server,
}

impl TokenServer {
    /// Starts one with a fresh signing key; tokens last 300 s.
    pub fn start() -> TokenServer {
        let state = Arc::new(State {
            signer: Signer::new(),
            expires_in: AtomicU64::new(300),
            issue_expired: AtomicBool::new(false),
            issued: AtomicU64::new(0),
            requests: Mutex::new(Vec::new()),
        });
        let shared = Arc::clone(&state);
        let server = Server::start(
            "127.0.0.1",
            Arc::new(move |request, stream: &mut TcpStream| handle(&shared, &request, stream)),
        );
        TokenServer { state, server }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        self.server.addr()
    }

    /// The URL a registry names as `realm` in its challenge.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.addr())
    }

    /// The PEM certificate whose key signs the tokens: the registry's
    /// `rootcertbundle`.
    pub fn cert_pem(&self) -> String {
        self.state.signer.cert_pem.clone()
    }

    /// Tokens issued from now on say `expires_in: seconds` and carry an
    /// `exp` claim that many seconds after they were issued. The registry
    /// honours them [`REGISTRY_LEEWAY`] longer: this tests a client that
    /// fetches a new token when its own clock says the old one expired.
    pub fn set_expires_in(&self, seconds: u64) {
        self.state.expires_in.store(seconds, Ordering::SeqCst);
    }

    /// With `true`, tokens issued from now on carry an `exp` already past
    /// the registry's leeway, whatever `expires_in` says: the registry
    /// answers them 401 (`invalid token`) at once. This tests a client that
    /// fetches a new token when the registry refuses its old one.
    pub fn set_issue_expired(&self, expired: bool) {
        self.state.issue_expired.store(expired, Ordering::SeqCst);
    }

    /// Every request answered so far, oldest first.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.state.requests.lock().expect("requests lock").clone()
    }
}

/// Who a token request says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Learner,
    Wrong,
}

fn caller(request: &Request) -> Caller {
    let Some(auth) = request.header("authorization") else {
        return Caller::Anonymous;
    };
    let expected = STANDARD.encode(format!("{USER}:{PASSWORD}"));
    match auth.strip_prefix("Basic ") {
        Some(given) if given.trim() == expected => Caller::Learner,
        _ => Caller::Wrong,
    }
}

fn handle(state: &State, request: &Request, stream: &mut TcpStream) {
    let who = caller(request);
    let response = if request.path() != "/token" {
        Response::new(404)
    } else if who == Caller::Wrong {
        Response::json(
            401,
            &json!({"errors": [{"code": "UNAUTHORIZED", "message": "wrong user name or password"}]}),
        )
    } else {
        Response::json(200, &token_response(state, request, who))
    };
    state
        .requests
        .lock()
        .expect("requests lock")
        .push(TokenRequest {
            target: request.target.clone(),
            authorization: request.header("authorization").map(str::to_owned),
            status: response.status(),
        });
    let _ = response.send(stream, false);
}

/// The JSON body of a granted token request.
fn token_response(state: &State, request: &Request, who: Caller) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let expires_in = state.expires_in.load(Ordering::SeqCst);
    let exp = if state.issue_expired.load(Ordering::SeqCst) {
        now - 2 * REGISTRY_LEEWAY.as_secs()
    } else {
        now + expires_in
    };
    let query = request.query();
    let service = query
        .iter()
        .find(|(n, _)| n == "service")
        .map_or("", |(_, v)| v);
    let access: Vec<Value> = query
        .iter()
        .filter(|(name, _)| name == "scope")
        .flat_map(|(_, value)| {
            value
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter_map(|scope| grant(&scope, who))
        .collect();
    let claims = json!({
        "iss": ISSUER,
        "sub": if who == Caller::Learner { USER } else { "" },
        "aud": service,
        "exp": exp,
        "nbf": now.saturating_sub(10),
        "iat": now,
        "jti": format!("cratebox-{now}-{}", state.issued.fetch_add(1, Ordering::SeqCst)),
        "access": access,
    });
    let token = state.signer.sign(&claims);
    json!({
        "token": token,
        "access_token": token,
        "expires_in": expires_in,
        "issued_at": rfc3339(now),
    })
}

/// The access entry for `type:name:actions`, where the name may hold `:`
/// (a registry host with a port); anonymous callers get `pull` at most.
fn grant(scope: &str, who: Caller) -> Option<Value> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    let actions: Vec<&str> = actions
        .split(',')
        .filter(|a| !a.is_empty())
        .filter(|a| who == Caller::Learner || *a == "pull")
        .collect();
    Some(json!({"type": kind, "name": name, "actions": actions}))
}

/// `seconds` after the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(seconds: u64) -> String {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// The Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// days-to-civil algorithm, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}
