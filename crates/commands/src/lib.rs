//! # cratebox-commands: the docker-style subcommands
//!
//! From chapter 4 on, the chapter programs speak docker's language:
//! `run`, `ps`, `images`, `commit`, `build`... The subcommands live here,
//! once: their clap types, what each does, and the tables they print. A
//! chapter binary is a thin `main` that picks the sets its chapter offers;
//! the `cratebox` program offers them all.
//!
//! | file | subcommands | chapter |
//! |---|---|---|
//! | [`run`] | `run`: a container from an image, with chapter 2's and 3's options | 4 |
//! | [`containers`] | `ps`, `rm`, `diff`, `commit` | 4 |
//! | [`images`] | `import`, `images`, `inspect`, `history`, `save`, `load`, `rmi` | 4 |
//! | [`build`] | `build`, `prune`: images from Dockerfiles | 5 |
//! | [`table`] | columns measured in terminal cells | 4 |
//! | [`chapter6`] | the `cratebox` command set: every subcommand, chapter 6's lifecycle ones first | 6 |
//! | [`run6`] | `run`, `create`, `start`: containers that live on, under a supervisor | 6 |
//! | [`lifecycle`] | `ps`, `logs`, `stop`, `kill`, `wait`, `rm`, `inspect`, ... | 6 |
//! | [`human`] | `Up 3 seconds`, `2 minutes ago` | 6 |
//! | [`chapter7`], [`chapter8`] | networks; `pull`, `push`, `tag`, `login` | 7, 8 |
//! | [`flags`] | run's flag values, and its security flags | 6, 9 |
//! | [`chapter9`], [`info`] | every container hardened; `info` | 9 |

pub mod build;
pub mod chapter6;
pub mod chapter7;
pub mod chapter8;
pub mod chapter9;
pub mod containers;
pub mod flags;
pub mod human;
pub mod images;
pub mod info;
pub mod inspect;
pub mod lifecycle;
pub mod run;
pub mod run6;
pub mod table;

use clap::Subcommand;
use cratebox_runtime::engine::Engine;

pub use build::BuildCommand;

/// Chapter 4's subcommands: images, and containers made from them.
#[derive(Debug, Subcommand)]
pub enum EngineCommand {
    /// Run a command in a new container
    Run(Box<run::RunArgs>),
    /// List containers
    Ps(containers::PsArgs),
    /// Remove containers
    Rm(containers::RmArgs),
    /// Show an image's config and layers as JSON
    Inspect(images::ImageArg),
    #[command(flatten)]
    Images(ImageCommand),
}

/// The image subcommands of every chapter from 4 on (chapter 6 brings its
/// own `run`, `ps`, `rm` and `inspect`).
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Import a root file system tarball (plain or gzipped) as an image
    Import(images::ImportArgs),
    /// List images
    Images,
    /// Create a new image from a container's changes
    Commit(containers::CommitArgs),
    /// Show what a container changed: A added, C changed, D deleted
    Diff(containers::DiffArgs),
    /// Show how an image's layers were made
    History(images::ImageArg),
    /// Write an image to an OCI archive
    Save(images::SaveArgs),
    /// Load images from an OCI archive
    Load(images::LoadArgs),
    /// Remove an image
    Rmi(images::ImageArg),
}

// ANCHOR: dispatch
/// Carry out one subcommand; returns the exit code.
pub fn dispatch(engine: &Engine, command: EngineCommand) -> anyhow::Result<i32> {
    match command {
        EngineCommand::Run(args) => run::run(engine, *args),
        EngineCommand::Ps(args) => containers::ps(engine, args),
        EngineCommand::Rm(args) => containers::rm(engine, args),
        EngineCommand::Inspect(args) => images::inspect(engine, args),
        EngineCommand::Images(command) => image_dispatch(engine, command),
    }
}

/// Carry out one image subcommand; returns the exit code.
pub fn image_dispatch(engine: &Engine, command: ImageCommand) -> anyhow::Result<i32> {
    match command {
        ImageCommand::Import(args) => images::import(engine, args),
        ImageCommand::Images => images::images(engine),
        ImageCommand::Commit(args) => containers::commit(engine, args),
        ImageCommand::Diff(args) => containers::diff(engine, args),
        ImageCommand::History(args) => images::history(engine, args),
        ImageCommand::Save(args) => images::save(engine, args),
        ImageCommand::Load(args) => images::load(engine, args),
        ImageCommand::Rmi(args) => images::rmi(engine, args),
    }
}
// ANCHOR_END: dispatch

/// Open the engine on `$CRATEBOX_ROOT` (default `/var/lib/cratebox`).
pub fn open_engine() -> anyhow::Result<Engine> {
    use anyhow::Context;
    let mut engine =
        Engine::open(&cratebox_demo_image::state_root()).context("cannot open the image store")?;
    engine.registry = REGISTRY.get().cloned();
    Ok(engine)
}

/// Where engines opened by [`open_engine`] pull missing images from: set
/// once by chapter 8's programs; chapters 4 to 7 have none.
static REGISTRY: std::sync::OnceLock<cratebox_runtime::engine::RegistryHandle> =
    std::sync::OnceLock::new();

/// Have every engine this program opens pull missing images through `registry`.
pub fn set_registry(registry: cratebox_runtime::engine::RegistryHandle) {
    let _ = REGISTRY.set(registry);
}

/// The name this program was started as, for messages.
pub fn program() -> String {
    std::env::args()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cratebox".into())
}
