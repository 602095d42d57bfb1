//! Chapter 4's commands: docker-style subcommands over an OCI image store,
//! as a library so that later chapters offer them too:
//!
//! ```text
//! import TARBALL NAME[:TAG]     a root file system tar as a one-layer image
//! run [OPTIONS] IMAGE [CMD...]  a container: the image's layers + a writable one
//! ps [-a]                       containers
//! rm CONTAINER...               delete containers (their writable layers)
//! images                        images
//! commit CONTAINER NAME[:TAG]   a container's changes as a new image
//! diff CONTAINER                what a container changed (A/C/D)
//! inspect IMAGE                 config and layers, as JSON
//! history IMAGE                 how the layers were made
//! save -o FILE IMAGE            an image as an OCI archive
//! load -i FILE                  images from an OCI archive
//! rmi IMAGE                     delete an image; unused layers go with it
//! ```

use std::path::PathBuf;

use anyhow::anyhow;
use clap::Subcommand;
use cratebox_cli::LimitArgs;
use cratebox_image::archive::save;
use cratebox_image::reference::Reference;
use cratebox_runtime::containers::Status;
use cratebox_runtime::engine::{Engine, RunRequest};
use cratebox_runtime::explain;

/// Chapter 4's subcommands; chapter 5 offers them too.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import a root file system tarball (plain or gzipped) as an image
    Import {
        /// The tarball
        tarball: PathBuf,
        /// NAME[:TAG] to give it
        name: String,
    },
    /// Run a command in a new container
    Run {
        /// Remove the container when it exits
        #[arg(long)]
        rm: bool,
        /// Name for the container
        #[arg(long)]
        name: Option<String>,
        /// Hostname inside the container
        #[arg(long, value_name = "NAME", default_value = "cratebox")]
        hostname: String,
        #[command(flatten)]
        limits: LimitArgs,
        /// The image, e.g. demo or myimage:v1
        image: String,
        /// Command and arguments [default: the image's]
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// List containers
    Ps {
        /// Show all containers, not only running ones
        #[arg(short, long)]
        all: bool,
    },
    /// Remove containers
    Rm {
        /// Names or ids
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// List images
    Images,
    /// Create a new image from a container's changes
    Commit {
        /// Name or id
        container: String,
        /// NAME[:TAG] for the new image
        name: String,
    },
    /// Show what a container changed: A added, C changed, D deleted
    Diff {
        /// Name or id
        container: String,
    },
    /// Show an image's config and layers as JSON
    Inspect {
        /// The image
        image: String,
    },
    /// Show how an image's layers were made
    History {
        /// The image
        image: String,
    },
    /// Write an image to an OCI archive
    Save {
        /// Output file
        #[arg(short, long)]
        output: PathBuf,
        /// The image
        image: String,
    },
    /// Load images from an OCI archive
    Load {
        /// Input file
        #[arg(short, long)]
        input: PathBuf,
    },
    /// Remove an image
    Rmi {
        /// The image
        image: String,
    },
}

/// Carry out one subcommand; returns the exit code.
pub fn dispatch(engine: &Engine, command: Command) -> anyhow::Result<i32> {
    let e = |error: cratebox_runtime::engine::EngineError| anyhow!(error);
    match command {
        Command::Import { tarball, name } => {
            let image = engine.import(&tarball, &parse_ref(&name)?).map_err(e)?;
            println!("{}", image.id());
        }
        Command::Run {
            rm,
            name,
            hostname,
            limits: limit_args,
            image,
            command,
        } => {
            cratebox_sandbox::hostname::validate_hostname(&hostname)?;
            let limits = limit_args.limits()?;
            let request = RunRequest {
                name,
                remove: rm,
                hostname,
                userns: false,
                command,
                limits: limits.clone(),
            };
            let (_, outcome) = engine.run(&image, &request).map_err(e)?;
            for line in explain(&outcome, &limits) {
                eprintln!("{}: {line}", program());
            }
            if limit_args.stats {
                eprintln!("{}: stats: {}", program(), outcome.stats);
            }
            return Ok(outcome.code);
        }
        Command::Ps { all } => {
            println!(
                "{:<14}{:<16}{:<24}{:<22}{:<14}NAMES",
                "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS"
            );
            for record in engine.containers.list()? {
                let status = match record.live_status() {
                    Status::Created => "Created".to_string(),
                    Status::Running { .. } => "Up".to_string(),
                    Status::Exited { code } if code < 0 => "Exited (unknown)".to_string(),
                    Status::Exited { code } => format!("Exited ({code})"),
                };
                if !all && status != "Up" {
                    continue;
                }
                let mut command = format!("{:?}", record.command.join(" "));
                command.truncate(22);
                println!(
                    "{:<14}{:<16}{:<24}{:<22}{:<14}{}",
                    &record.id[..12],
                    record.image,
                    command,
                    record.created,
                    status,
                    record.name
                );
            }
        }
        Command::Rm { containers } => {
            for key in containers {
                let record = engine.containers.find(&key)?;
                engine.containers.remove(&record)?;
                println!("{key}");
            }
        }
        Command::Images => {
            println!(
                "{:<24}{:<12}{:<16}{:<22}SIZE",
                "REPOSITORY", "TAG", "IMAGE ID", "CREATED"
            );
            for (reference, digest) in engine.store.list()? {
                let image = engine.store.image(reference.clone(), digest)?;
                let size: i64 = image
                    .manifest
                    .layers()
                    .iter()
                    .map(|l| l.size() as i64)
                    .sum();
                let id = image.id();
                let created = image.config.created().clone().unwrap_or_default();
                println!(
                    "{:<24}{:<12}{:<16}{:<22}{}",
                    reference.name,
                    reference.tag,
                    &id["sha256:".len().."sha256:".len() + 12],
                    created,
                    human(size as u64)
                );
            }
        }
        Command::Commit { container, name } => {
            let image = engine.commit(&container, &parse_ref(&name)?).map_err(e)?;
            println!("{}", image.id());
        }
        Command::Diff { container } => {
            let record = engine.containers.find(&container)?;
            let lowers = engine.lowers_of(&record).map_err(e)?;
            let upper = engine.containers.dirs(&record.id).upper;
            for change in cratebox_image::diff::changes(&upper, &lowers)? {
                println!("{change}");
            }
        }
        Command::Inspect { image } => {
            let image = engine.image(&image).map_err(e)?;
            let inspected = serde_json::json!([{
                "Id": image.id(),
                "RepoTags": [image.reference.to_string()],
                "ManifestDigest": image.manifest_digest.as_str(),
                "Created": image.config.created(),
                "Author": image.config.author(),
                "Architecture": image.config.architecture().to_string(),
                "Os": image.config.os().to_string(),
                "Config": image.config.config(),
                "RootFS": image.config.rootfs(),
                "Layers": image.manifest.layers(),
            }]);
            println!("{}", serde_json::to_string_pretty(&inspected)?);
        }
        Command::History { image } => {
            let image = engine.image(&image).map_err(e)?;
            println!("{:<22}CREATED BY", "CREATED");
            for entry in image.config.history().iter().rev() {
                println!(
                    "{:<22}{}",
                    entry.created().clone().unwrap_or_default(),
                    entry.created_by().clone().unwrap_or_default()
                );
            }
        }
        Command::Save { output, image } => {
            let image = engine.image(&image).map_err(e)?;
            save(&engine.store, &image, &output)?;
        }
        Command::Load { input } => {
            for name in engine.load(&input).map_err(e)? {
                println!("Loaded image: {name}");
            }
        }
        Command::Rmi { image } => {
            let (reference, removed) = engine.remove_image(&image).map_err(e)?;
            println!("Untagged: {reference}");
            for digest in removed {
                println!("Deleted: {digest}");
            }
        }
    }
    Ok(0)
}

fn parse_ref(name: &str) -> anyhow::Result<Reference> {
    Ok(name.parse()?)
}

/// Sizes as docker prints them: 4.2MB.
fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.1}GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1}MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1}kB", b as f64 / 1e3),
        b => format!("{b}B"),
    }
}

/// The name this program was started as, for messages.
fn program() -> String {
    std::env::args()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cratebox".into())
}
