//! # cratebox-cli: the conventions every chapter binary shares
//!
//! Each chapter is its own program, but they all take their options first,
//! then the command and its arguments (`ch02-namespaces --hostname web sh -c
//! 'hostname'`), use the demo image when no `--rootfs` is given, run a shell
//! on a terminal and a short demo otherwise, and end with the container's
//! exit code. That shared behaviour lives here so no chapter copies it.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use cratebox_sandbox::ContainerError;

/// The arguments every chapter takes: where the root file system is, and
/// what to run in it.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Directory to use as the container's root file system [default: the
    /// demo image, built under $CRATEBOX_ROOT on first use]
    #[arg(long, value_name = "DIR")]
    pub rootfs: Option<PathBuf>,

    /// The command to run and its arguments; everything after the command's
    /// name belongs to it, options included [default: a shell on a
    /// terminal, else a short demo]
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
}

impl RunArgs {
    /// The rootfs to use: `--rootfs`, or the demo image (built if needed).
    pub fn rootfs(&self) -> anyhow::Result<PathBuf> {
        match &self.rootfs {
            Some(dir) => Ok(dir.clone()),
            None => {
                let state = cratebox_demo_image::state_root();
                cratebox_demo_image::ensure(&state).context("cannot prepare the demo image")
            }
        }
    }

    /// The command to run: as given, else an interactive shell when stdin is
    /// a terminal, else `/bin/sh -c DEMO`.
    pub fn command(&self, demo: &str) -> Vec<String> {
        if !self.command.is_empty() {
            self.command.clone()
        } else if std::io::stdin().is_terminal() {
            vec!["/bin/sh".to_string()]
        } else {
            vec!["/bin/sh".to_string(), "-c".to_string(), demo.to_string()]
        }
    }
}

/// Refuse to go on unless we are root, naming the privileged thing `what`
/// we are about to do.
pub fn require_root(program: &str, what: &str) -> anyhow::Result<()> {
    if !nix::unistd::geteuid().is_root() {
        bail!(
            "{program} needs root to {what}: run it as root (e.g. `sudo {program} ...`), or with `cargo run`, which goes through sudo for you"
        );
    }
    Ok(())
}

/// Run `body` and exit the way a container engine does: with the
/// container's exit code, or after one line on stderr with 125 (our own
/// failure), 126 (command not runnable) or 127 (command not found).
pub fn exit_with(program: &str, body: impl FnOnce() -> anyhow::Result<i32>) -> ! {
    match body() {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            eprintln!("{program}: {error:#}");
            let code = error
                .downcast_ref::<ContainerError>()
                .map(ContainerError::exit_code)
                .unwrap_or(cratebox_sandbox::report::SETUP_FAILED);
            std::process::exit(code)
        }
    }
}
