//! Compile the in-container helpers (`probe`, `breakout`, `memhog`, `escape`) as fully static
//! binaries and hand them to the library, which embeds them in the demo image.
//!
//! Why not depend on the `cratebox-tools` crate's binaries? Cargo does not let
//! a library embed another package's binary output, and those binaries are
//! linked against the host's shared C library: inside an image without
//! `/lib/x86_64-linux-gnu/libc.so.6` they would not even start. So we run the
//! very compiler cargo gave us again, on the same std-only sources, with
//! `+crt-static`: the result needs no loader and no library at all.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The helpers, by the name they get in `OUT_DIR`.
const TOOLS: [&str; 4] = ["probe", "breakout", "memhog", "escape"];

fn main() {
    if let Err(message) = run() {
        // A panic in a build script is shown whole by cargo; an `Err` from
        // main would only show its Debug form.
        panic!("{message}");
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(var("OUT_DIR")?);
    let rustc = var("RUSTC")?;
    let target = var("TARGET")?;
    let sources = manifest_dir.join("../tools/src/bin");

    let mut fingerprint = Fnv1a64::new();
    for name in TOOLS {
        // `NAME.rs`, or `NAME/main.rs` with its modules beside it, as cargo
        // lays out a binary of one file or of several. For a directory,
        // cargo reruns this script when any file in it changes.
        let (source, watched) = match sources.join(format!("{name}.rs")) {
            single if single.exists() => (single.clone(), single),
            _ => (sources.join(name).join("main.rs"), sources.join(name)),
        };
        println!("cargo:rerun-if-changed={}", watched.display());
        let output = out_dir.join(name);
        compile_static(&rustc, &target, &source, &output)?;
        let bytes = fs::read(&output)
            .map_err(|e| format!("cannot read the compiled {}: {e}", output.display()))?;
        fingerprint.write(name.as_bytes());
        fingerprint.write(&bytes);
    }
    // The image cache compares this with the fingerprint in its manifest, so
    // a changed probe rebuilds a cached image instead of running a stale one.
    println!(
        "cargo:rustc-env=CRATEBOX_TOOLS_FINGERPRINT={:016x}",
        fingerprint.finish()
    );
    Ok(())
}

/// `rustc -C target-feature=+crt-static`: link the C library statically too,
/// which on glibc gives a static-pie binary with no `PT_INTERP`.
fn compile_static(rustc: &str, target: &str, source: &Path, output: &Path) -> Result<(), String> {
    let result = Command::new(rustc)
        .args(["--edition", "2021", "-O", "--target", target])
        .args(["-C", "target-feature=+crt-static", "-C", "strip=symbols"])
        .arg(source)
        .arg("-o")
        .arg(output)
        .output()
        .map_err(|e| format!("cannot run the compiler {rustc}: {e}"))?;
    if result.status.success() {
        return Ok(());
    }
    Err(format!(
        "cannot compile {} as a static binary ({}): static linking needs the C library's \
         static archive (libc.a); install libc6-dev (Debian/Ubuntu) or glibc-static (Fedora)\n{}",
        source.display(),
        result.status,
        String::from_utf8_lossy(&result.stderr)
    ))
}

fn var(name: &str) -> Result<String, String> {
    env::var(name).map_err(|_| format!("cargo did not set {name} for the build script"))
}

/// FNV-1a, 64 bits: a fingerprint, not a defence against tampering, so the
/// simplest hash that changes when any byte changes is enough and needs no
/// dependency.
struct Fnv1a64(u64);

impl Fnv1a64 {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
