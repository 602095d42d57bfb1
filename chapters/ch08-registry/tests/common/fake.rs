//! A pull-only registry that misbehaves on request: it redirects blobs to a
//! second host, cuts a blob short, or fails the first requests for a blob.
//! The real registry cannot be made to do any of that.

use std::collections::{HashMap, HashSet};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, OnceLock};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;

use super::http::{Request, Response, Server};
use super::sha256_digest;

/// How the fake misbehaves. The default is a well-behaved registry.
#[derive(Debug, Clone, Default)]
pub struct Knobs {
    /// Ask for Basic authentication with this user and password.
    pub basic: Option<(String, String)>,
    /// Answer a blob GET with `307` to `http://127.0.0.2:PORT/blobs/<digest>`,
    /// a second listener that serves the bytes (and applies the knobs below).
    pub redirect_blobs: bool,
    /// The first GET of each blob without `Range` announces the whole
    /// length but sends only this many bytes before closing. Later
    /// requests with `Range: bytes=N-` get the rest.
    pub cut_blob_once: Option<u64>,
    /// The first this many requests for each blob answer 503.
    pub fail_first: u32,
}

/// Which listener a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The registry at [`FakeRegistry::addr`], on 127.0.0.1.
    Front,
    /// The blob host on 127.0.0.2 that redirects point to.
    Second,
}

/// A request the fake saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The listener it came to.
    pub side: Side,
    /// `GET`, `HEAD`...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Its `Range` header.
    pub range: Option<String>,
    /// Its `Authorization` header.
    pub authorization: Option<String>,
}

/// What the fake serves, and what it has done to each blob so far.
#[derive(Debug, Default)]
struct Content {
    /// (repository, tag or digest) to (media type, bytes).
    manifests: HashMap<(String, String), (String, Vec<u8>)>,
    blobs: HashMap<String, Vec<u8>>,
    failed: HashMap<String, u32>,
    cut: HashSet<String>,
}

#[derive(Debug)]
struct Shared {
    knobs: Knobs,
    content: Mutex<Content>,
    seen: Mutex<Vec<Seen>>,
    second: OnceLock<String>,
}

/// The fake registry on 127.0.0.1 (and with `redirect_blobs`, its blob
/// host on 127.0.0.2), stopped when dropped.
#[derive(Debug)]
pub struct FakeRegistry {
    shared: Arc<Shared>,
    front: Server,
    second: Option<Server>,
}

impl FakeRegistry {
    /// Starts one with nothing in it.
    pub fn start(knobs: Knobs) -> FakeRegistry {
        let redirect = knobs.redirect_blobs;
        let shared = Arc::new(Shared {
            knobs,
            content: Mutex::default(),
            seen: Mutex::default(),
            second: OnceLock::new(),
        });
        let second = redirect.then(|| {
            let s = Arc::clone(&shared);
            let server = Server::start(
                "127.0.0.2",
                Arc::new(move |request, stream: &mut TcpStream| second(&s, &request, stream)),
            );
            let _ = shared.second.set(server.addr());
            server
        });
        let s = Arc::clone(&shared);
        let front = Server::start(
            "127.0.0.1",
            Arc::new(move |request, stream: &mut TcpStream| front(&s, &request, stream)),
        );
        FakeRegistry {
            shared,
            front,
            second,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        self.front.addr()
    }

    /// `127.0.0.2:PORT` of the blob host, with `redirect_blobs`.
    pub fn second_addr(&self) -> Option<String> {
        self.second.as_ref().map(Server::addr)
    }

    /// Serves `bytes` as the manifest `repo:reference`, and under its
    /// digest too.
    pub fn add_manifest(&self, repo: &str, reference: &str, media_type: &str, bytes: &[u8]) {
        let mut content = self.shared.content.lock().expect("content lock");
        for name in [reference.to_owned(), sha256_digest(bytes)] {
            let value = (media_type.to_owned(), bytes.to_vec());
            content.manifests.insert((repo.to_owned(), name), value);
        }
    }

    /// Serves `bytes` as the blob `digest` (in any repository).
    pub fn add_blob(&self, digest: &str, bytes: &[u8]) {
        let mut content = self.shared.content.lock().expect("content lock");
        content.blobs.insert(digest.to_owned(), bytes.to_vec());
    }

    /// Every request seen so far, oldest first.
    pub fn requests(&self) -> Vec<Seen> {
        self.shared.seen.lock().expect("seen lock").clone()
    }
}

impl Shared {
    fn record(&self, side: Side, request: &Request) {
        self.seen.lock().expect("seen lock").push(Seen {
            side,
            method: request.method.clone(),
            path: request.path().to_owned(),
            range: request.header("range").map(str::to_owned),
            authorization: request.header("authorization").map(str::to_owned),
        });
    }

    fn authorized(&self, request: &Request) -> bool {
        let Some((user, password)) = &self.knobs.basic else {
            return true;
        };
        let expected = format!("Basic {}", STANDARD.encode(format!("{user}:{password}")));
        request.header("authorization") == Some(expected.as_str())
    }
}

/// distribution's error body.
fn error(status: u16, code: &str, message: &str, detail: serde_json::Value) -> Response {
    let body = json!({"errors": [{"code": code, "message": message, "detail": detail}]});
    Response::json(status, &body)
}

fn front(shared: &Shared, request: &Request, stream: &mut TcpStream) {
    shared.record(Side::Front, request);
    let head_only = request.method == "HEAD";
    if !shared.authorized(request) {
        let response = error(401, "UNAUTHORIZED", "authentication required", json!(null))
            .header("WWW-Authenticate", "Basic realm=\"fake\"");
        let _ = response.send(stream, head_only);
        return;
    }
    let path = request.path();
    if path == "/v2/" || path == "/v2" {
        let _ = Response::json(200, &json!({})).send(stream, head_only);
        return;
    }
    let parts = path.strip_prefix("/v2/").and_then(|rest| {
        let (rest, reference) = rest.rsplit_once('/')?;
        let (repo, kind) = rest.rsplit_once('/')?;
        Some((repo, kind, reference))
    });
    match parts {
        Some((repo, "manifests", reference)) => {
            let _ = manifest(shared, repo, reference).send(stream, head_only);
        }
        Some((_, "blobs", digest)) => match shared.second.get() {
            Some(second) => {
                let location = format!("http://{second}/blobs/{digest}");
                let _ = Response::new(307)
                    .header("Location", &location)
                    .send(stream, head_only);
            }
            None => blob(shared, digest, request, stream),
        },
        _ => {
            let _ = error(
                404,
                "NAME_UNKNOWN",
                "repository name not known",
                json!(path),
            )
            .send(stream, head_only);
        }
    }
}

fn second(shared: &Shared, request: &Request, stream: &mut TcpStream) {
    shared.record(Side::Second, request);
    match request.path().strip_prefix("/blobs/") {
        Some(digest) => blob(shared, digest, request, stream),
        None => {
            let _ = Response::new(404).send(stream, false);
        }
    }
}

fn manifest(shared: &Shared, repo: &str, reference: &str) -> Response {
    let content = shared.content.lock().expect("content lock");
    let key = (repo.to_owned(), reference.to_owned());
    let Some((media_type, bytes)) = content.manifests.get(&key) else {
        let detail = json!({"Name": repo, "Revision": reference});
        return error(404, "MANIFEST_UNKNOWN", "manifest unknown", detail);
    };
    Response::new(200)
        .header("Content-Type", media_type)
        .header("Docker-Content-Digest", &sha256_digest(bytes))
        .body(bytes.clone())
}

/// What happens to this request for a blob, the knobs applied.
#[derive(Debug)]
enum BlobAnswer {
    Missing,
    Fail,
    Whole(Vec<u8>),
    Cut(Vec<u8>, usize),
    From(Vec<u8>, usize),
}

fn blob_answer(shared: &Shared, digest: &str, request: &Request) -> BlobAnswer {
    let mut content = shared.content.lock().expect("content lock");
    let Some(bytes) = content.blobs.get(digest).cloned() else {
        return BlobAnswer::Missing;
    };
    let failed = content.failed.entry(digest.to_owned()).or_default();
    if *failed < shared.knobs.fail_first {
        *failed += 1;
        return BlobAnswer::Fail;
    }
    let start = request
        .header("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    match (start, shared.knobs.cut_blob_once) {
        (Some(start), _) => BlobAnswer::From(bytes, start),
        (None, Some(limit)) if request.method == "GET" && content.cut.insert(digest.to_owned()) => {
            BlobAnswer::Cut(bytes, usize::try_from(limit).unwrap_or(usize::MAX))
        }
        (None, _) => BlobAnswer::Whole(bytes),
    }
}

fn blob(shared: &Shared, digest: &str, request: &Request, stream: &mut TcpStream) {
    let head_only = request.method == "HEAD";
    let ok = |status: u16, bytes: Vec<u8>| {
        Response::new(status)
            .header("Content-Type", "application/octet-stream")
            .header("Docker-Content-Digest", digest)
            .body(bytes)
    };
    let _ = match blob_answer(shared, digest, request) {
        BlobAnswer::Missing => error(
            404,
            "BLOB_UNKNOWN",
            "blob unknown to registry",
            json!(digest),
        )
        .send(stream, head_only),
        BlobAnswer::Fail => Response::new(503).send(stream, head_only),
        BlobAnswer::Whole(bytes) => ok(200, bytes).send(stream, head_only),
        BlobAnswer::Cut(bytes, limit) => ok(200, bytes).send_cut(stream, limit),
        BlobAnswer::From(bytes, start) if start < bytes.len() => {
            let range = format!("bytes {start}-{}/{}", bytes.len() - 1, bytes.len());
            ok(206, bytes[start..].to_vec())
                .header("Content-Range", &range)
                .send(stream, head_only)
        }
        BlobAnswer::From(bytes, _) => Response::new(416)
            .header("Content-Range", &format!("bytes */{}", bytes.len()))
            .send(stream, head_only),
    };
}
