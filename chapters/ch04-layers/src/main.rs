//! Chapter 4: `ch04-layers COMMAND`, images made of layers and containers
//! as one more layer. The subcommands are in the library (lib.rs), so that
//! chapter 5 can offer them too.

use anyhow::{anyhow, Context};
use ch04_layers::{dispatch, Command};
use clap::Parser;
use cratebox_cli::{exit_with, require_root};
use cratebox_runtime::engine::Engine;

/// Images made of layers, containers as one more layer: chapter 4.
#[derive(Debug, Parser)]
#[command(name = "ch04-layers", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// ANCHOR: main
fn main() {
    let cli = Cli::parse();
    exit_with("ch04-layers", || {
        require_root("ch04-layers", "manage images and run containers")?;
        let engine = Engine::open(&cratebox_demo_image::state_root())
            .map_err(|e| anyhow!(e))
            .context("cannot open the image store")?;
        dispatch(&engine, cli.command)
    })
}
// ANCHOR_END: main
