//! The program under test, with a state root and a settings directory of
//! its own, and a look at the store before and after a command that must
//! leave nothing behind.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::MutexGuard;

use cratebox_testkit::{one_at_a_time, require_root, tool, Outcome, TestEnv};

use super::registry::{Registry, Setup};

/// The chapter's program.
pub const BIN: &str = env!("CARGO_BIN_EXE_ch08-registry");

/// A state root and a settings directory for one test.
pub struct Lab {
    pub env: TestEnv,
    pub config: tempfile::TempDir,
}

/// Root, docker-registry and skopeo, or the test is skipped (failed
/// under `CI=true`); one privileged test at a time.
pub fn setup() -> Option<(MutexGuard<'static, ()>, Lab)> {
    if !require_root() {
        return None;
    }
    tool("docker-registry")?;
    tool("skopeo")?;
    let turn = one_at_a_time();
    let lab = Lab {
        env: TestEnv::new(),
        config: tempfile::tempdir().unwrap(),
    };
    Some((turn, lab))
}

impl Lab {
    /// Trust `registry` as its setup needs: plain HTTP listed in
    /// `insecure-registries`, TLS by its CA in `certs.d`.
    pub fn trust(&self, registry: &Registry) {
        match registry.setup {
            Setup::Tls => {
                let dir = self.config.path().join("certs.d").join(registry.addr());
                fs::create_dir_all(&dir).unwrap();
                fs::write(dir.join("ca.crt"), registry.ca_pem().unwrap()).unwrap();
            }
            _ => self.insecure(&[&registry.addr()]),
        }
    }

    /// List `hosts` as insecure (plain HTTP) registries.
    pub fn insecure(&self, hosts: &[&str]) {
        let daemon = self.config.path().join("daemon.json");
        let mut listed: Vec<String> = fs::read(&daemon)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| serde_json::from_value(v["insecure-registries"].clone()).ok())
            .unwrap_or_default();
        listed.extend(hosts.iter().map(|h| h.to_string()));
        let text = serde_json::json!({ "insecure-registries": listed }).to_string();
        fs::write(daemon, text).unwrap();
    }

    /// Run the program with `args` (stdin empty).
    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_with_stdin(args, "")
    }

    /// Run the program with `args` and `stdin`.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Outcome {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = self
            .env
            .command(BIN)
            .args(args)
            .env("CRATEBOX_CONFIG", self.config.path())
            .env("DOCKER_CONFIG", self.config.path().join("docker"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        Outcome::from(child.wait_with_output().unwrap())
    }

    /// Run, insist on success, return stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        out.stdout
    }

    /// Run, insist on exit code 1 and one line on stderr; return it.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.code, 1, "{args:?} should fail with 1: {out:?}");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line of error: {out:?}");
        lines[0].to_string()
    }

    /// `login` to `registry` with its test credentials.
    pub fn login(&self, registry: &Registry) {
        let (user, password) = registry.credentials().unwrap();
        let out = self.run_with_stdin(
            &["login", "-u", user, "--password-stdin", &registry.addr()],
            password,
        );
        assert_eq!(out.code, 0, "login: {out:?}");
        assert_eq!(out.stdout, "Login Succeeded\n");
    }

    /// The settings file `login` writes.
    pub fn config_json(&self) -> PathBuf {
        self.config.path().join("config.json")
    }

    /// Its mode bits.
    pub fn config_mode(&self) -> u32 {
        fs::metadata(self.config_json())
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    }

    /// Everything in the image store and the layers directory, with the
    /// index's text: what a refused pull must leave as it was.
    pub fn store_state(&self) -> Vec<String> {
        let root = self.env.state_root();
        let mut state = Vec::new();
        for dir in ["oci/blobs/sha256", "layers"] {
            for entry in fs::read_dir(root.join(dir)).into_iter().flatten().flatten() {
                state.push(format!("{dir}/{}", entry.file_name().to_string_lossy()));
            }
        }
        state.sort();
        state.push(fs::read_to_string(root.join("oci/index.json")).unwrap_or_default());
        state
    }

    /// The manifest digest the store names `reference` with.
    pub fn local_digest(&self, reference: &str) -> String {
        let index: serde_json::Value = serde_json::from_slice(
            &fs::read(self.env.state_root().join("oci/index.json")).unwrap(),
        )
        .unwrap();
        index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == reference)
            .unwrap_or_else(|| panic!("no {reference} in {index}"))["digest"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The state root.
    pub fn root(&self) -> &Path {
        self.env.state_root()
    }

    /// Check nothing is left: see [`TestEnv::finish`].
    pub fn finish(self) {
        self.env.finish();
    }
}

/// The digest in push's last line, `TAG: digest: sha256:… size: N`.
pub fn pushed_digest(stdout: &str) -> String {
    let line = stdout.lines().last().unwrap_or_default();
    let digest = line
        .split("digest: ")
        .nth(1)
        .and_then(|r| r.split(' ').next());
    digest
        .unwrap_or_else(|| panic!("no digest in {stdout:?}"))
        .to_string()
}

/// The digest in pull's `Digest: sha256:…` line.
pub fn pulled_digest(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .unwrap_or_else(|| panic!("no Digest: line in {stdout:?}"))
        .to_string()
}
