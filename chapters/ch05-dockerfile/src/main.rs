//! Chapter 5: `ch05-dockerfile build -t NAME[:TAG] CONTEXT` builds an image
//! from a Dockerfile, with a layer cache; every subcommand of chapter 4
//! (`run`, `images`, `inspect`, `history`, ...) works on the result.
//!
//! ```text
//! build [-t NAME[:TAG]] [-f FILE] [--no-cache] [--build-arg K=V]... CONTEXT
//! ```

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use clap::{Args, Parser, Subcommand};
use cratebox_builder::{build, BuildOptions};
use cratebox_cli::{exit_with, require_root, LimitArgs};
use cratebox_image::reference::Reference;
use cratebox_runtime::engine::Engine;

/// Images from Dockerfiles, with a layer cache: chapter 5.
#[derive(Debug, Parser)]
#[command(name = "ch05-dockerfile", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build an image from a Dockerfile
    Build(BuildArgs),
    /// Empty the build cache, and delete the layers only it kept
    Prune,
    #[command(flatten)]
    Layers(ch04_layers::Command),
}

#[derive(Debug, Args)]
struct BuildArgs {
    /// Name (and tag) for the image, e.g. myapp or myapp:v1
    #[arg(short, long, value_name = "NAME[:TAG]", value_parser = parse_reference)]
    tag: Option<Reference>,
    /// The Dockerfile [default: CONTEXT/Dockerfile]
    #[arg(short, long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Run every step, reusing nothing from the cache
    #[arg(long)]
    no_cache: bool,
    /// Print only the image ID at the end (a RUN's own output still shows)
    #[arg(short, long)]
    quiet: bool,
    /// A value for an ARG, e.g. VERSION=1.2 (or NAME alone, to take it from the environment)
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_build_arg)]
    build_arg: Vec<(String, String)>,
    /// Limits for each RUN step's container
    #[command(flatten)]
    limits: LimitArgs,
    /// The build context: the directory COPY and ADD read from
    context: PathBuf,
}

// ANCHOR: main
fn main() {
    let cli = Cli::parse();
    exit_with("ch05-dockerfile", || {
        require_root("ch05-dockerfile", "build images and run containers")?;
        let engine = Engine::open(&cratebox_demo_image::state_root())
            .map_err(|e| anyhow!(e))
            .context("cannot open the image store")?;
        match cli.command {
            Command::Build(args) => {
                let options = BuildOptions {
                    context: args.context,
                    dockerfile: args.file,
                    tag: args.tag,
                    no_cache: args.no_cache,
                    build_args: args.build_arg,
                    limits: args.limits.limits()?,
                };
                // A failed build exits 1, as `docker build` does; the
                // message names the step.
                let mut progress: Box<dyn std::io::Write> = match args.quiet {
                    true => Box::new(std::io::sink()),
                    false => Box::new(std::io::stdout()),
                };
                match build(&engine, &options, &mut progress) {
                    Ok(built) => {
                        if args.quiet {
                            println!("{}", built.id);
                        }
                        Ok(0)
                    }
                    Err(error) => {
                        eprintln!("ch05-dockerfile: {error}");
                        Ok(1)
                    }
                }
            }
            Command::Prune => {
                let (entries, removed) = engine.prune_build_cache().map_err(|e| anyhow!(e))?;
                println!("Deleted build cache: {entries} steps");
                for digest in removed {
                    println!("Deleted: {digest}");
                }
                Ok(0)
            }
            Command::Layers(command) => ch04_layers::dispatch(&engine, command),
        }
    })
}
// ANCHOR_END: main

fn parse_reference(text: &str) -> Result<Reference, String> {
    text.parse()
        .map_err(|e: cratebox_image::reference::BadReference| e.to_string())
}

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
