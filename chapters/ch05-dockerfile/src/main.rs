//! Chapter 5: `ch05-dockerfile build -t NAME[:TAG] CONTEXT` builds an image
//! from a Dockerfile, with a build cache; every subcommand of chapter 4
//! (`run`, `images`, `inspect`, `history`, ...) works on the result.
//!
//! ```text
//! build [-t NAME[:TAG]] [-f FILE] [--no-cache] [--build-arg K=V]... CONTEXT
//! prune
//! ```

use clap::{Parser, Subcommand};
use cratebox_cli::{exit_with, require_root};
use cratebox_commands::{build, dispatch, open_engine, BuildCommand, EngineCommand};

/// Images from Dockerfiles, with a build cache: chapter 5.
#[derive(Debug, Parser)]
#[command(name = "ch05-dockerfile", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Chapter 5's subcommands, then chapter 4's.
#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Build(BuildCommand),
    #[command(flatten)]
    Engine(EngineCommand),
}

// ANCHOR: main
fn main() {
    let cli = Cli::parse();
    exit_with("ch05-dockerfile", || {
        require_root("ch05-dockerfile", "build images and run containers")?;
        let engine = open_engine()?;
        match cli.command {
            Command::Build(command) => build::dispatch(&engine, command),
            Command::Engine(command) => dispatch(&engine, command),
        }
    })
}
// ANCHOR_END: main
