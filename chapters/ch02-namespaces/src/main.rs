//! Chapter 2: `ch02-namespaces [--rootfs DIR] [--hostname NAME] [--userns] [COMMAND [ARG]...]`
//!
//! The same command as chapter 1, now in its own UTS, PID, mount, IPC,
//! network and cgroup namespaces (and with `--userns` a user namespace),
//! on a root reached by pivot_root instead of chroot.

use clap::Parser;
use cratebox_cli::{exit_with, require_root, RunArgs};
use cratebox_sandbox::idmap::DEFAULT_USERNS_RANGE;
use cratebox_sandbox::{run, ContainerCommand, ContainerConfig, Namespaces};

/// Run a command in new namespaces: its own hostname, processes, mounts,
/// IPC, network and cgroup view.
#[derive(Debug, Parser)]
#[command(name = "ch02-namespaces", version)]
struct Cli {
    /// Hostname inside the container
    #[arg(long, value_name = "NAME", default_value = "cratebox")]
    hostname: String,

    /// Also create a user namespace: root inside is uid 100000 outside
    #[arg(long)]
    userns: bool,

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

fn main() {
    let cli = Cli::parse();
    exit_with("ch02-namespaces", || {
        cratebox_sandbox::hostname::validate_hostname(&cli.hostname)?;
        require_root("ch02-namespaces", "create namespaces and mounts")?;
        let mut command = ContainerCommand::new(cli.run.command(DEMO));
        command.set_env("HOSTNAME", &cli.hostname);
        let config = ContainerConfig {
            rootfs: cli.run.rootfs()?,
            hostname: cli.hostname.clone(),
            namespaces: Namespaces::all(cli.userns),
            id_range: DEFAULT_USERNS_RANGE,
            command,
        };
        Ok(run(&config)?)
    })
}
