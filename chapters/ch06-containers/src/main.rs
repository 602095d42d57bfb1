//! Chapter 6: containers that live on. `run -d` leaves a container running
//! under its own supervisor; `ps`, `logs`, `stop`, `start`, `kill`,
//! `wait`, `rm` and `inspect` work on it afterwards; and every subcommand
//! of chapters 4 and 5 is here too.
//!
//! ```text
//! run [-d] [-i] [--rm] [--name NAME] [-e K=V] [-w DIR] [-u USER] IMAGE [COMMAND]...
//! ps [-a] [-q] [--filter status=exited]     logs [-f] [--tail N] [-t] CONTAINER
//! stop [-t SECS] | kill [-s SIGNAL] | start [-a] | restart | wait | rm [-f] CONTAINER...
//! ```

use clap::Parser;
use cratebox_commands::chapter6::{main_for, AllCommand};

/// Containers that live on: chapter 6.
#[derive(Debug, Parser)]
#[command(name = "ch06-containers", version)]
struct Cli {
    #[command(subcommand)]
    command: AllCommand,
}

// ANCHOR: main
fn main() {
    main_for("ch06-containers", Cli::parse().command)
}
// ANCHOR_END: main
