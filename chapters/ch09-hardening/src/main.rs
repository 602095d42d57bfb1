//! Chapter 9: hardening. A container's root keeps only docker's 14
//! capabilities, cannot gain more through a setuid program
//! (no_new_privs), makes only the system calls docker's seccomp profile
//! allows, and cannot read or change what /proc and /sys tell of the host.
//! Every subcommand of chapters 4 to 8 is here, and `run` and `create`
//! take the options that change those defaults:
//!
//! ```text
//! run [--privileged] [--cap-add CAP] [--cap-drop CAP]
//!     [--security-opt no-new-privileges[=false]|seccomp=FILE|seccomp=unconfined]
//!     [--read-only] [--device HOST[:CONTAINER]] IMAGE [COMMAND]...
//! info
//! ```

use clap::Parser;
use cratebox_commands::chapter9::{main_for, AllCommand};

/// Hardening: chapter 9.
#[derive(Debug, Parser)]
#[command(name = "ch09-hardening", version)]
struct Cli {
    #[command(subcommand)]
    command: AllCommand,
}

// ANCHOR: main
fn main() {
    main_for("ch09-hardening", Cli::parse().command)
}
// ANCHOR_END: main
