//! Chapter 8: registries. Images come from, and go to, a registry over
//! the OCI distribution protocol, as docker's do. Every subcommand of
//! chapters 4 to 7 is here too, and `run`, `create` and `build` pull an
//! image the store lacks.
//!
//! ```text
//! pull [--platform OS/ARCH[/VARIANT]] [-q] NAME[:TAG|@DIGEST]
//! push NAME[:TAG]
//! tag SOURCE TARGET
//! login [-u USER] [--password-stdin] [REGISTRY]
//! logout [REGISTRY]
//! ```

use clap::Parser;
use cratebox_commands::chapter8::{main_for, AllCommand};

/// Registries: chapter 8.
#[derive(Debug, Parser)]
#[command(name = "ch08-registry", version)]
struct Cli {
    #[command(subcommand)]
    command: AllCommand,
}

// ANCHOR: main
fn main() {
    main_for("ch08-registry", Cli::parse().command)
}
// ANCHOR_END: main
