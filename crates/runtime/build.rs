//! Builds the pump (crates/pump) as its own program, to be embedded in
//! this crate: a static binary with no C library and panics that abort.
//! Cargo sets the panic strategy per profile, not per package, and a
//! program without the standard library cannot unwind, so the pump is
//! compiled here with rustc itself: its library first, then its entry
//! point (src/start.rs) linked against it.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let source = manifest.join("../pump/src");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo")).join("pump");
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    println!("cargo:rerun-if-changed={}", source.display());
    std::fs::create_dir_all(&out).expect("cannot create the pump's build folder");
    let common = [
        "--edition=2021",
        "-Cpanic=abort",
        "-Copt-level=s",
        "-Crelocation-model=static",
        "-Cdebuginfo=0",
    ];
    run(Command::new(&rustc)
        .args(["--crate-name", "cratebox_pump", "--crate-type", "rlib"])
        .args(common)
        .arg("--out-dir")
        .arg(&out)
        .arg(source.join("lib.rs")));
    run(Command::new(&rustc)
        .args(["--crate-name", "cratebox_pump_start", "--crate-type", "bin"])
        .args(common)
        .args(["-Cstrip=symbols", "-Clink-arg=-nostartfiles"])
        .args(["-Clink-arg=-nostdlib", "-Clink-arg=-static"])
        .arg("--extern")
        .arg(format!(
            "cratebox_pump={}",
            out.join("libcratebox_pump.rlib").display()
        ))
        .arg("-o")
        .arg(out.join("cratebox-pump"))
        .arg(source.join("start.rs")));
}

fn run(command: &mut Command) {
    let status = command.status().expect("cannot run rustc");
    assert!(status.success(), "building the pump failed: {command:?}");
}
