//! Just enough HTTP/1.1 for the test servers and for a test that wants to
//! look at raw bytes: one request per connection, `Connection: close`,
//! bodies only in responses.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a server waits for a request's head, and a client for a reply.
const PATIENCE: Duration = Duration::from_secs(10);

/// A request's head, which is all a GET or HEAD has.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `HEAD`...
    pub method: String,
    /// The path and query, as sent.
    pub target: String,
    /// Header names in lower case, values trimmed.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// Reads a request's head from `stream`.
    pub fn read(stream: &TcpStream) -> io::Result<Request> {
        // A TLS handshake (record type 22) from a client that tries HTTPS
        // first: hang up at once so that it falls back to HTTP, rather than
        // wait for a line that never ends.
        let mut first = [0u8; 1];
        if stream.peek(&mut first)? == 1 && first[0] == 0x16 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "TLS, not HTTP"));
        }
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let mut words = line.split_whitespace();
        let (Some(method), Some(target)) = (words.next(), words.next()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "no request line",
            ));
        };
        let (method, target) = (method.to_owned(), target.to_owned());
        let mut headers = Vec::new();
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        Ok(Request {
            method,
            target,
            headers,
        })
    }

    /// The value of header `name`, if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The target without its query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The query's parameters, decoded, in the order sent (a name may
    /// repeat).
    pub fn query(&self) -> Vec<(String, String)> {
        let Some((_, query)) = self.target.split_once('?') else {
            return Vec::new();
        };
        query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(name), percent_decode(value))
            })
            .collect()
    }
}

/// Decodes `%XX` escapes and `+` for space (a broken escape gives `?`).
fn percent_decode(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        out.push(match byte {
            b'+' => b' ',
            b'%' => {
                let hex: String = bytes.by_ref().take(2).map(char::from).collect();
                u8::from_str_radix(&hex, 16).unwrap_or(b'?')
            }
            other => other,
        });
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A response a test server sends; always with `Content-Length` and
/// `Connection: close`.
#[derive(Debug, Clone)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// An empty response with `status`.
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON body, with its content type.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::new(status)
            .header("Content-Type", "application/json")
            .body(value.to_string().into_bytes())
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Vec<u8>) -> Response {
        self.body = body;
        self
    }

    /// Sends it whole, or only its head for a HEAD request.
    pub fn send(&self, stream: &mut TcpStream, head_only: bool) -> io::Result<()> {
        let limit = if head_only { 0 } else { self.body.len() };
        self.send_cut(stream, limit)
    }

    /// Sends the head (with the whole body's length) and the first `limit`
    /// bytes of the body, then closes the connection.
    pub fn send_cut(&self, stream: &mut TcpStream, limit: usize) -> io::Result<()> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        stream.write_all(head.as_bytes())?;
        stream.write_all(&self.body[..limit.min(self.body.len())])?;
        stream.flush()?;
        stream.shutdown(Shutdown::Write)
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

/// What a handler does with one request on its connection.
pub type Handler = dyn Fn(Request, &mut TcpStream) + Send + Sync;

/// A listener on a loopback address that hands each request to a handler
/// in a thread of its own. Dropping it stops accepting and waits for the
/// handlers.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on `ip` (port chosen by the kernel) and serves with `handler`.
    pub fn start(ip: &str, handler: Arc<Handler>) -> Server {
        assert!(
            ip.starts_with("127."),
            "test servers listen on loopback only"
        );
        let listener = TcpListener::bind((ip, 0)).expect("bind a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || accept_loop(&listener, &stopping, &handler));
        Server {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// `IP:PORT`.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }
}

fn accept_loop(listener: &TcpListener, stop: &AtomicBool, handler: &Arc<Handler>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut stream) = stream else { continue };
        let handler = Arc::clone(handler);
        workers.retain(|w| !w.is_finished());
        workers.push(std::thread::spawn(move || {
            let _ = stream.set_read_timeout(Some(PATIENCE));
            if let Ok(request) = Request::read(&stream) {
                handler(request, &mut stream);
            }
        }));
    }
    for worker in workers {
        let _ = worker.join();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A response as a test client read it, up to where the server closed.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// Whatever came after the head: shorter than `Content-Length` when
    /// the server cut it.
    pub body: Vec<u8>,
}

impl Reply {
    /// The value of header `name`, if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// Sends `METHOD path` with `headers` to `addr` over plain HTTP and reads
/// the reply until the server closes the connection.
pub fn request(
    method: &str,
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> io::Result<Reply> {
    request_with_body(method, addr, path, headers, &[])
}

/// [`request`] with a body (sent with its `Content-Length`).
pub fn request_with_body(
    method: &str,
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(PATIENCE))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_reply(&raw)
}

/// `GET path` from `addr`: see [`request`].
pub fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> io::Result<Reply> {
    request("GET", addr, path, headers)
}

fn parse_reply(raw: &[u8]) -> io::Result<Reply> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of head"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    })
}
