//! The real registry: Debian's `docker-registry` (distribution 2.8) in a
//! temp dir of its own, on 127.0.0.1, in one of four setups.

use std::fs::{self, File};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::token::TokenServer;
use super::{free_port, http, ISSUER, PASSWORD, SERVICE, USER};

/// How the registry is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// HTTP, no authentication.
    Plain,
    /// HTTPS with a certificate from a CA made for the test.
    Tls,
    /// HTTP with Basic authentication (htpasswd).
    Basic,
    /// HTTP with Bearer tokens from a [`TokenServer`].
    Token,
}

/// A running registry process, killed and waited for when dropped (also
/// when a start fails half way).
#[derive(Debug)]
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `docker-registry serve` of its own, stopped when dropped: the process
/// killed and waited for, its temp dir (config, storage, log) removed.
#[derive(Debug)]
pub struct Registry {
    /// Dropped first: the process goes before its directory.
    process: Running,
    /// The setup it was started with.
    pub setup: Setup,
    addr: String,
    ca_pem: Option<String>,
    token: Option<TokenServer>,
    dir: TempDir,
}

impl Registry {
    /// Starts one and waits until it answers. Panics (with its log) when it
    /// does not within 10 s.
    pub fn start(setup: Setup) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("cratebox-registry-")
            .tempdir()
            .expect("a temp dir");
        let token = (setup == Setup::Token).then(TokenServer::start);
        let ca_pem = prepare(setup, dir.path(), token.as_ref());
        for _ in 0..5 {
            let addr = format!("127.0.0.1:{}", free_port("127.0.0.1"));
            write_config(setup, dir.path(), &addr, token.as_ref());
            let process = spawn(dir.path());
            // None: someone took the port between our choosing and its binding.
            if let Some(process) = wait_until_ready(process, setup, &addr, dir.path()) {
                return Registry {
                    process,
                    setup,
                    addr,
                    ca_pem,
                    token,
                    dir,
                };
            }
        }
        panic!("docker-registry found no free port in 5 tries");
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        self.addr.clone()
    }

    /// The CA certificate (PEM) that signed the server's certificate, for
    /// [`Setup::Tls`]. The server's certificate names IP 127.0.0.1 and DNS
    /// `localhost`.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// The user and password it accepts, for Basic and Token.
    pub fn credentials(&self) -> Option<(&'static str, &'static str)> {
        matches!(self.setup, Setup::Basic | Setup::Token).then_some((USER, PASSWORD))
    }

    /// The temp dir it runs in: config, storage, log.
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The root of its filesystem storage.
    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// Where distribution keeps the blob `sha256:<hex>` on disk.
    pub fn blob_data(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        self.storage()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The token server it trusts, for [`Setup::Token`].
    pub fn token_server(&self) -> Option<&TokenServer> {
        self.token.as_ref()
    }

    /// Everything it wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        read_log(self.dir.path())
    }
}

fn read_log(dir: &Path) -> String {
    fs::read_to_string(dir.join("registry.log")).unwrap_or_default()
}

/// Writes what the setup needs besides the config; returns the CA's PEM
/// for [`Setup::Tls`].
fn prepare(setup: Setup, dir: &Path, token: Option<&TokenServer>) -> Option<String> {
    match setup {
        Setup::Plain => None,
        Setup::Tls => Some(write_tls_files(dir)),
        Setup::Basic => {
            let hash = bcrypt::hash(PASSWORD, 4).expect("bcrypt");
            fs::write(dir.join("htpasswd"), format!("{USER}:{hash}\n")).expect("write htpasswd");
            None
        }
        Setup::Token => {
            let token = token.expect("a token server for Setup::Token");
            fs::write(dir.join("token-signer.pem"), token.cert_pem()).expect("write bundle");
            None
        }
    }
}

/// A CA, and a server certificate it signs for 127.0.0.1 and localhost:
/// `server.crt` and `server.key` in `dir`. Returns the CA's PEM.
fn write_tls_files(dir: &Path) -> String {
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "cratebox test CA");
    let ca_cert = ca.self_signed(&ca_key).expect("a CA certificate");

    let key = rcgen::KeyPair::generate().expect("a server key");
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let mut server = rcgen::CertificateParams::new(names).expect("server params");
    server
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    let issuer = rcgen::Issuer::new(ca, &ca_key);
    let cert = server
        .signed_by(&key, &issuer)
        .expect("a server certificate");
    fs::write(dir.join("server.crt"), cert.pem()).expect("write server.crt");
    fs::write(dir.join("server.key"), key.serialize_pem()).expect("write server.key");
    ca_cert.pem()
}

/// `config.yml` in `dir` for a registry on `addr`.
fn write_config(setup: Setup, dir: &Path, addr: &str, token: Option<&TokenServer>) {
    let d = dir.display();
    let mut config = format!(
        "version: 0.1\n\
         log:\n  level: warn\n\
         storage:\n  filesystem:\n    rootdirectory: \"{d}/storage\"\n  delete:\n    enabled: true\n\
         http:\n  addr: {addr}\n  secret: cratebox-test-secret\n"
    );
    match setup {
        Setup::Plain => {}
        Setup::Tls => config.push_str(&format!(
            "  tls:\n    certificate: \"{d}/server.crt\"\n    key: \"{d}/server.key\"\n"
        )),
        Setup::Basic => config.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: cratebox-test\n    path: \"{d}/htpasswd\"\n"
        )),
        Setup::Token => {
            let realm = token.expect("a token server").realm();
            config.push_str(&format!(
                "auth:\n  token:\n    realm: \"{realm}\"\n    service: {SERVICE}\n    \
                 issuer: {ISSUER}\n    rootcertbundle: \"{d}/token-signer.pem\"\n"
            ));
        }
    }
    fs::write(dir.join("config.yml"), config).expect("write config.yml");
}

/// `docker-registry serve DIR/config.yml`, its output to `DIR/registry.log`.
fn spawn(dir: &Path) -> Running {
    let program = cratebox_testkit::tool("docker-registry")
        .expect("docker-registry is not installed (Debian package docker-registry)");
    let log = File::create(dir.join("registry.log")).expect("create registry.log");
    let mut command = Command::new(program);
    command
        .arg("serve")
        .arg(dir.join("config.yml"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("dup the log"))
        .stderr(log);
    // REGISTRY_* variables would override the config.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("REGISTRY_") {
            command.env_remove(name);
        }
    }
    Running(command.spawn().expect("start docker-registry"))
}

/// Waits until `GET /v2/` answers 200 or 401 (for TLS: until the port
/// accepts connections). None when the registry found its port taken.
fn wait_until_ready(mut process: Running, setup: Setup, addr: &str, dir: &Path) -> Option<Running> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = process.0.try_wait() {
            let log = read_log(dir);
            if log.contains("address already in use") {
                return None;
            }
            panic!("docker-registry exited ({status}) at start:\n{log}");
        }
        if answers(setup, addr) {
            return Some(process);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(process);
    panic!(
        "docker-registry did not answer on {addr} within 10 s:\n{}",
        read_log(dir)
    );
}

fn answers(setup: Setup, addr: &str) -> bool {
    if setup == Setup::Tls {
        return TcpStream::connect(addr).is_ok();
    }
    http::get(addr, "/v2/", &[]).is_ok_and(|reply| matches!(reply.status, 200 | 401))
}
