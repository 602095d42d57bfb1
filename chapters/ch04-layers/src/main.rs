//! Chapter 4: `ch04-layers COMMAND`, images made of layers and containers
//! as one more layer:
//!
//! ```text
//! import TARBALL NAME[:TAG]     a root file system tar as a one-layer image
//! run [OPTIONS] IMAGE [CMD...]  a container: the image's layers + a writable one
//! ps [-a]                       containers
//! rm CONTAINER...               delete containers (their writable layers)
//! images                        images
//! commit CONTAINER NAME[:TAG]   a container's changes as a new image
//! diff CONTAINER                what a container changed (A/C/D)
//! inspect IMAGE                 config and layers, as JSON
//! history IMAGE                 how the layers were made
//! save -o FILE IMAGE            an image as an OCI archive
//! load -i FILE                  images from an OCI archive
//! rmi IMAGE                     delete an image; unused layers go with it
//! ```
//!
//! The subcommands live in `cratebox-commands`, which the later chapters
//! and `cratebox` share; this program offers chapter 4's set.

use clap::Parser;
use cratebox_cli::{exit_with, require_root};
use cratebox_commands::{dispatch, open_engine, EngineCommand};

/// Images made of layers, containers as one more layer: chapter 4.
#[derive(Debug, Parser)]
#[command(name = "ch04-layers", version)]
struct Cli {
    #[command(subcommand)]
    command: EngineCommand,
}

// ANCHOR: main
fn main() {
    let cli = Cli::parse();
    exit_with("ch04-layers", || {
        require_root("ch04-layers", "manage images and run containers")?;
        dispatch(&open_engine()?, cli.command)
    })
}
// ANCHOR_END: main
