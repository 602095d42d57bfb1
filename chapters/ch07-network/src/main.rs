//! Chapter 7: networking. A container gets an address on a bridge, a way
//! out through the host (NAT), ports published on the host, and names.
//! Every subcommand of chapters 4 to 6 is here too, with `--network
//! bridge` as the default, as in docker.
//!
//! ```text
//! run -d -p 8080:80 [--network NAME|none|host|container:NAME] IMAGE [COMMAND]...
//! port CONTAINER
//! network create [--subnet CIDR] NAME | ls | inspect NAME | rm NAME | prune | connect NET CTR | disconnect NET CTR
//! ```

use clap::Parser;
use cratebox_commands::chapter7::{main_for, AllCommand};

/// Networking: chapter 7.
#[derive(Debug, Parser)]
#[command(name = "ch07-network", version)]
struct Cli {
    #[command(subcommand)]
    command: AllCommand,
}

// ANCHOR: main
fn main() {
    main_for("ch07-network", Cli::parse().command)
}
// ANCHOR_END: main
