//! Chapter 10: an OCI runtime. The chapter's binary is the runtime
//! itself, under the chapter's name; `cratebox-runtime` is the same
//! program under the name engines are configured with:
//!
//! ```text
//! podman --runtime "$(command -v cratebox-runtime)" run --rm IMAGE echo hi
//! ```

use clap::Parser;
use cratebox_oci_runtime::cli::{run, Cli};

// ANCHOR: main
fn main() {
    std::process::exit(run(Cli::parse()))
}
// ANCHOR_END: main
