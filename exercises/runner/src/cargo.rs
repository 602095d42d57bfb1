//! Running cargo on one exercise's package, in the exercises workspace.

use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::exercises::{Exercise, Workspace};

/// What a cargo run said.
#[derive(Debug)]
pub struct Outcome {
    /// Whether it exited with 0.
    pub success: bool,
    /// Its stdout and stderr, interleaved as a terminal would show them.
    pub output: String,
}

/// `cargo SUBCOMMAND -q -p PACKAGE ARGS...` in the exercises directory,
/// its output captured.
pub fn run(
    workspace: &Workspace,
    subcommand: &str,
    exercise: &Exercise,
    args: &[&str],
) -> Result<Outcome> {
    // Under `cargo run`, CARGO names the cargo that started us: use the same.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(&cargo);
    command
        .current_dir(workspace.root())
        .args([subcommand, "-q", "-p", &exercise.package()])
        .args(args)
        // A wrong answer is a failed test, not a `.snap.new` file to review:
        // the snapshots are the exercise's, not the learner's to update.
        .env("INSTA_UPDATE", "no")
        .env_remove("INSTA_FORCE_PASS")
        .stdin(Stdio::null());
    // A backtrace of a todo!() says nothing a learner needs; whoever wants
    // one has set RUST_BACKTRACE already.
    if std::env::var_os("RUST_BACKTRACE").is_none() {
        command.env("RUST_BACKTRACE", "0");
    }
    if exercise.needs_root && !is_root() {
        // Its tests run through scripts/as-root, which asks sudo for root.
        // Without root they would skip themselves and pass; CI=true makes
        // cratebox's test kit fail them instead, so that a pass is real.
        command.env("CI", "true");
    }
    capture(command).with_context(|| format!("cannot run {}", cargo.to_string_lossy()))
}

/// Run `command` with stdout and stderr on one pipe, so that the output
/// keeps the order it was written in: a test's panic next to its name,
/// cargo's own complaints where they happened.
fn capture(mut command: Command) -> Result<Outcome> {
    // Close-on-exec: the child gets the write end as its stdout and stderr
    // only, and keeps no stray copy that would hold the pipe open.
    let (reader, writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    command.stdout(writer.try_clone()?).stderr(writer);
    let mut child = command.spawn()?;
    // The command holds the pipe's write ends: drop it, or the read below
    // would never see the end of the output.
    drop(command);
    let mut bytes = Vec::new();
    File::from(reader).read_to_end(&mut bytes)?;
    let status = child.wait()?;
    Ok(Outcome {
        success: status.success(),
        output: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// True when this process runs as root, which exercises that make real
/// namespaces need.
pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}
