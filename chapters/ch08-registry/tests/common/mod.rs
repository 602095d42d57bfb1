//! What chapter 8's tests share: registries to talk to. The real
//! `docker-registry` (distribution 2.8) in four setups, the token server it
//! trusts, and a fake registry that misbehaves on purpose. Every one of
//! them listens on a loopback address only and is stopped when dropped.

// Each test file uses some of these, not all.
#![allow(dead_code, unused_imports)]

pub mod fake;
pub mod http;
pub mod image;
pub mod lab;
pub mod registry;
pub mod token;

use std::fs;
use std::net::TcpListener;
use std::path::Path;

pub use fake::{FakeRegistry, Knobs, Seen, Side};
pub use image::TestImage;
pub use registry::{Registry, Setup};
pub use token::{TokenRequest, TokenServer};

/// The user name the Basic and Token setups accept.
pub const USER: &str = "learner";
/// That user's password.
pub const PASSWORD: &str = "secret-word";
/// The `service` the Token setup's registry names in its challenge.
pub const SERVICE: &str = "cratebox-test-registry";
/// The `iss` the Token setup's registry trusts.
pub const ISSUER: &str = "cratebox-test-issuer";

/// A port nobody listens on at `ip` right now: bind port 0, read what the
/// kernel chose, and let it go. Someone may take it before we do; the
/// callers retry.
pub fn free_port(ip: &str) -> u16 {
    let listener = TcpListener::bind((ip, 0)).expect("bind a loopback port");
    listener.local_addr().expect("a bound address").port()
}

/// `sha256:<hex>` of `bytes`, the way OCI names content.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = ring::digest::digest(&ring::digest::SHA256, bytes);
    let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The processes whose command line mentions `path`: what a test checks is
/// empty once its registry is dropped.
pub fn processes_mentioning(path: &Path) -> Vec<u32> {
    let needle = path.to_string_lossy().into_owned().into_bytes();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| cmdline.windows(needle.len()).any(|w| w == needle))
        })
        .collect()
}

/// Asserts that what a dropped [`Registry`] ran in `dir` is gone: no
/// process mentions it, and the directory itself was removed.
pub fn assert_cleaned_up(dir: &Path) {
    let left = processes_mentioning(dir);
    assert!(left.is_empty(), "processes left running: {left:?}");
    assert!(!dir.exists(), "{} was not removed", dir.display());
}
