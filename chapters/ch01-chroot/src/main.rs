//! Chapter 1: `ch01-chroot [--rootfs DIR] [COMMAND [ARG]...]`
//!
//! The first container: a process whose `/` is the image. fork, chroot,
//! chdir, exec — and nothing else, which is exactly what the demo shows.

use clap::Parser;
use cratebox_cli::{exit_with, require_root, RunArgs};
use cratebox_sandbox::{chroot::run_chrooted, ContainerCommand};

/// Run a command with a different root directory: the container of 1979.
#[derive(Debug, Parser)]
#[command(name = "ch01-chroot", version)]
struct Cli {
    #[command(flatten)]
    run: RunArgs,
}

// ANCHOR: demo
/// What runs when no command is given and stdin is not a terminal: a look
/// at what a chroot hides and, more to the point, what it does not.
const DEMO: &str = r#"
echo "inside the chroot, / holds: $(ls / | tr '\n' ' ')"
echo "my pid is $$: the host's numbering, there is no PID namespace"
echo "hostname: $(hostname): the host's, there is no UTS namespace"
if kill -0 1 2>/dev/null; then
  echo "pid 1 answers kill -0: the host's processes are within reach"
fi
echo "try: ch01-chroot /usr/local/bin/breakout"
"#;
// ANCHOR_END: demo

// ANCHOR: main
fn main() {
    let cli = Cli::parse();
    exit_with("ch01-chroot", || {
        require_root("ch01-chroot", "call chroot(2)")?;
        let rootfs = cli.run.rootfs()?;
        let command = ContainerCommand::new(cli.run.command(DEMO));
        Ok(run_chrooted(&rootfs, &command)?)
    })
}
// ANCHOR_END: main
