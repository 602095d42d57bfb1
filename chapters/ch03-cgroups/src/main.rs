//! Chapter 3: `ch03-cgroups [-m SIZE] [--memory-swap SIZE] [--cpus N] [--cpu-shares N]
//! [--pids-limit N] [--cpuset-cpus LIST] [--stats] [chapter 2's options] [COMMAND [ARG]...]`
//!
//! Chapter 2's container, now inside a cgroup that limits its memory, CPU
//! and number of processes, and that tells afterwards what it used and
//! whether the kernel had to step in.

use clap::Parser;
use cratebox_cli::{exit_with, require_root, IsolationArgs, LimitArgs, RunArgs};
use cratebox_runtime::{explain, run_limited};

/// Run a command in new namespaces and a cgroup with docker-style limits.
#[derive(Debug, Parser)]
#[command(name = "ch03-cgroups", version)]
struct Cli {
    #[command(flatten)]
    limits: LimitArgs,

    #[command(flatten)]
    isolation: IsolationArgs,

    #[command(flatten)]
    run: RunArgs,
}

// ANCHOR: demo
/// What runs when no command is given and stdin is not a terminal.
const DEMO: &str = r#"
echo "my cgroups, as the cgroup namespace shows them:"
cat /proc/self/cgroup
echo "try: ch03-cgroups -m 32m /usr/local/bin/memhog"
echo "     ch03-cgroups --pids-limit 20 sh -c 'bomb() { bomb | bomb & }; bomb; sleep 1; ps | wc -l'"
echo "     ch03-cgroups --cpus 0.5 --stats timeout 2 sh -c 'while :; do :; done'"
"#;
// ANCHOR_END: demo

// ANCHOR: main
fn main() {
    let cli = Cli::parse();
    exit_with("ch03-cgroups", || {
        let limits = cli.limits.limits()?;
        cratebox_sandbox::hostname::validate_hostname(&cli.isolation.hostname)?;
        require_root("ch03-cgroups", "create cgroups and namespaces")?;
        let config = cli
            .isolation
            .config(cli.run.rootfs()?, cli.run.command(DEMO))?;
        let outcome = run_limited(&config, &limits)?;
        for line in explain(&outcome, &limits) {
            eprintln!("ch03-cgroups: {line}");
        }
        if cli.limits.stats {
            eprintln!("ch03-cgroups: stats: {}", outcome.stats);
        }
        Ok(outcome.code)
    })
}
// ANCHOR_END: main
