//! `build` and `prune`: images from Dockerfiles (chapter 5).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use cratebox_builder::{build, prune_cache, BuildOptions};
use cratebox_cli::LimitArgs;
use cratebox_image::reference::Reference;
use cratebox_runtime::engine::Engine;

use crate::program;

/// Chapter 5's subcommands.
#[derive(Debug, Subcommand)]
pub enum BuildCommand {
    /// Build an image from a Dockerfile
    Build(Box<BuildArgs>),
    /// Empty the build cache, and delete the layers only it kept
    Prune,
}

/// `build [-t NAME[:TAG]] [-f FILE] [--no-cache] [--build-arg K=V]... CONTEXT`
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Name (and tag) for the image, e.g. myapp or myapp:v1
    #[arg(short, long, value_name = "NAME[:TAG]")]
    pub tag: Option<Reference>,
    /// The Dockerfile [default: CONTEXT/Dockerfile]
    #[arg(short, long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Run every step, reusing nothing from the cache
    #[arg(long)]
    pub no_cache: bool,
    /// Print only the image ID at the end (a RUN's own output still shows)
    #[arg(short, long)]
    pub quiet: bool,
    /// A value for an ARG, e.g. VERSION=1.2 (or NAME alone, to take it from the environment)
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_build_arg)]
    pub build_arg: Vec<(String, String)>,
    /// Limits for each RUN step's container
    #[command(flatten)]
    pub limits: LimitArgs,
    /// The build context: the directory COPY and ADD read from
    pub context: PathBuf,
}

/// Carry out one of chapter 5's subcommands; returns the exit code.
pub fn dispatch(engine: &Engine, command: BuildCommand) -> anyhow::Result<i32> {
    match command {
        BuildCommand::Build(args) => run_build(engine, *args),
        BuildCommand::Prune => {
            let pruned = prune_cache(engine)?;
            println!("Deleted build cache: {} steps", pruned.entries);
            for digest in pruned.blobs {
                println!("Deleted: {digest}");
            }
            Ok(0)
        }
    }
}

// ANCHOR: build
/// `build`: docker-style progress on stdout; a failed build exits 1, as
/// `docker build` does, with one line that names the step.
fn run_build(engine: &Engine, args: BuildArgs) -> anyhow::Result<i32> {
    let options = BuildOptions {
        context: args.context,
        dockerfile: args.file,
        tag: args.tag,
        no_cache: args.no_cache,
        build_args: args.build_arg,
        limits: args.limits.limits()?,
    };
    let mut progress: Box<dyn std::io::Write> = match args.quiet {
        true => Box::new(std::io::sink()),
        false => Box::new(std::io::stdout()),
    };
    match build(engine, &options, &mut progress) {
        Ok(built) => {
            if args.quiet {
                println!("{}", built.id);
            }
            Ok(0)
        }
        Err(error) => {
            eprintln!("{}: {error}", program());
            Ok(1)
        }
    }
}
// ANCHOR_END: build

/// `NAME=VALUE`, or `NAME` to pass the variable of that name through, as
/// docker does.
fn parse_build_arg(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        Some(_) => Err("expected NAME=VALUE, e.g. VERSION=1.2".into()),
        None => std::env::var(text)
            .map(|value| (text.to_string(), value))
            .map_err(|_| format!("{text} has no value here: write {text}=VALUE")),
    }
}
