//! Chapter 2: `ch02-namespaces [--rootfs DIR] [--hostname NAME] [--userns] [COMMAND [ARG]...]`
//!
//! The same command as chapter 1, now in its own UTS, PID, mount, IPC,
//! network and cgroup namespaces (and with `--userns` a user namespace),
//! on a root reached by pivot_root instead of chroot.

use clap::Parser;
use cratebox_cli::{exit_with, require_root, IsolationArgs, RunArgs};
use cratebox_sandbox::run;

/// Run a command in new namespaces: its own hostname, processes, mounts,
/// IPC, network and cgroup view.
#[derive(Debug, Parser)]
#[command(name = "ch02-namespaces", version)]
struct Cli {
    #[command(flatten)]
    isolation: IsolationArgs,

    #[command(flatten)]
    run: RunArgs,
}

// ANCHOR: demo
/// What runs when no command is given and stdin is not a terminal: the
/// same questions as chapter 1's demo, with different answers.
const DEMO: &str = r#"
echo "hostname: $(hostname): our own, the host's is untouched"
echo "my pid is $$; the processes I can see:"
ps -o pid,comm
echo "network interfaces: $(ls /sys/class/net | tr '\n' ' ')"
echo "try: ch02-namespaces /usr/local/bin/breakout"
"#;
// ANCHOR_END: demo

// ANCHOR: main
fn main() {
    let cli = Cli::parse();
    exit_with("ch02-namespaces", || {
        cratebox_sandbox::hostname::validate_hostname(&cli.isolation.hostname)?;
        require_root("ch02-namespaces", "create namespaces and mounts")?;
        let config = cli
            .isolation
            .config(cli.run.rootfs()?, cli.run.command(DEMO))?;
        Ok(run(&config)?)
    })
}
// ANCHOR_END: main
