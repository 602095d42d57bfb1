//! `run`: a container from an image.

use clap::Args;
use cratebox_cli::{IsolationArgs, LimitArgs};
use cratebox_runtime::engine::{Engine, RunRequest};
use cratebox_runtime::explain;

use crate::program;

/// `run [OPTIONS] IMAGE [COMMAND]...`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Name for the container
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub isolation: IsolationArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// The image, e.g. demo or myimage:v1
    pub image: String,
    /// Command and arguments [default: the image's]
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}
/// Run the container and end with its exit code; what the kernel did to
/// it (OOM, pids limit) and, with `--stats`, what it used, on stderr.
pub fn run(engine: &Engine, args: RunArgs) -> anyhow::Result<i32> {
    cratebox_sandbox::hostname::validate_hostname(&args.isolation.hostname)?;
    let limits = args.limits.limits()?;
    let request = RunRequest {
        name: args.name,
        remove: args.rm,
        isolation: args.isolation.isolation(),
        command: args.command,
        limits: limits.clone(),
    };
    let (_, outcome) = engine.run(&args.image, &request)?;
    for line in explain(&outcome, &limits) {
        eprintln!("{}: {line}", program());
    }
    if args.limits.stats {
        eprintln!("{}: stats: {}", program(), outcome.stats);
    }
    Ok(outcome.code)
}
