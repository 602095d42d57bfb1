//! `cratebox`: every chapter's subcommands in one program, the one to
//! install (`cargo install --path crates/cratebox`).
//!
//! ```text
//! cratebox run -d --name web demo httpd -f -p 8080
//! cratebox ps
//! cratebox logs -f web
//! cratebox stop web && cratebox rm web
//! cratebox build -t myapp . && cratebox images
//! ```

use clap::Parser;
use cratebox_commands::chapter9::{main_for, AllCommand};

/// A small container engine: run, build and keep OCI containers and images.
#[derive(Debug, Parser)]
#[command(name = "cratebox", version)]
struct Cli {
    #[command(subcommand)]
    command: AllCommand,
}

fn main() {
    main_for("cratebox", Cli::parse().command)
}
