//! Running cargo on one exercise's package, in the exercises workspace.

use std::ffi::OsString;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::exercises::{root, Exercise};

/// What a cargo run said.
#[derive(Debug)]
pub struct Outcome {
    /// Whether it exited with 0.
    pub success: bool,
    /// Its stderr then its stdout, for showing when it went wrong.
    pub output: String,
}

/// `cargo SUBCOMMAND -p PACKAGE ARGS...`, captured.
pub fn run(subcommand: &str, exercise: &Exercise, args: &[&str]) -> Result<Outcome> {
    // Under `cargo run`, CARGO names the cargo that started us: use the same.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let output = Command::new(&cargo)
        .current_dir(root())
        .args([subcommand, "-q", "-p", &exercise.package()])
        .args(args)
        // A wrong answer is a failed test, not a `.snap.new` file to review:
        // the snapshots are the exercise's, not the learner's to update.
        .env("INSTA_UPDATE", "no")
        .env_remove("INSTA_FORCE_PASS")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", cargo.to_string_lossy()))?;
    Ok(Outcome {
        success: output.status.success(),
        output: String::from_utf8_lossy(&output.stderr).into_owned()
            + &String::from_utf8_lossy(&output.stdout),
    })
}

/// True when this process runs as root, which exercises that make real
/// namespaces need.
pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}
