//! The full command set of chapter 6 and of `cratebox`: containers that
//! live on, then chapter 5's builds, then chapter 4's images.

use clap::Subcommand;
use cratebox_runtime::engine::Engine;

use crate::build::{self, BuildCommand};
use crate::lifecycle::{self, ContainerSubcommand, VolumeSubcommand};
use crate::run6;
use crate::{image_dispatch, ImageCommand};

/// Chapter 6's subcommands.
#[derive(Debug, Subcommand)]
pub enum LifecycleCommand {
    /// Run a command in a new container (-d: in the background)
    Run(Box<run6::RunArgs>),
    /// Create a container without starting it
    Create(Box<run6::CreateArgs>),
    /// Start stopped containers
    Start(run6::StartArgs),
    /// Stop running containers: the stop signal, then SIGKILL after -t seconds
    Stop(lifecycle::StopArgs),
    /// Stop, then start, containers
    Restart(run6::RestartArgs),
    /// Send a signal to containers (default SIGKILL)
    Kill(lifecycle::KillArgs),
    /// Wait for containers to end, and print their exit codes
    Wait(lifecycle::ContainersArg),
    /// Run a command in a running container
    Exec(run6::ExecArgs),
    /// Join a detached container's terminal (Ctrl-P Ctrl-Q to leave it)
    Attach {
        /// Name or id
        container: String,
    },
    /// List containers
    Ps(lifecycle::PsArgs),
    /// Show a container's output
    Logs(lifecycle::LogsArgs),
    /// Remove containers
    Rm(lifecycle::RmArgs),
    /// Copy files between a container and the host: cp CONTAINER:PATH DEST, or cp SRC CONTAINER:PATH
    Cp {
        /// CONTAINER:PATH or a host path
        from: String,
        /// CONTAINER:PATH or a host path
        to: String,
    },
    /// Show a container's processes
    Top {
        /// Name or id
        container: String,
    },
    /// Show what running containers use: CPU, memory, processes
    Stats(lifecycle::StatsArgs),
    /// Rename a container
    Rename(lifecycle::RenameArgs),
    /// Show containers (or images) as JSON
    Inspect(lifecycle::InspectArgs),
    /// Manage containers
    Container {
        /// What to do
        #[command(subcommand)]
        command: ContainerSubcommand,
    },
    /// Manage volumes
    Volume {
        /// What to do
        #[command(subcommand)]
        command: VolumeSubcommand,
    },
    /// The supervisor of a detached container (started by run -d and start)
    #[command(name = run6::SUPERVISE, hide = true)]
    Supervise(run6::SuperviseArgs),
    /// One health check of a running container (started by its pump)
    #[command(name = run6::HEALTH, hide = true)]
    Health(run6::HealthArgs),
}

/// Everything `cratebox` offers.
#[derive(Debug, Subcommand)]
pub enum AllCommand {
    #[command(flatten)]
    Lifecycle(LifecycleCommand),
    #[command(flatten)]
    Build(BuildCommand),
    #[command(flatten)]
    Images(ImageCommand),
}

impl AllCommand {
    /// Whether this subcommand starts a container's command, so that its
    /// failures end with 125, 126 or 127 as `docker run` does; the other
    /// subcommands end with 1 on failure, as docker's do.
    pub fn runs_a_command(&self) -> bool {
        matches!(
            self,
            AllCommand::Lifecycle(
                LifecycleCommand::Run(_)
                    | LifecycleCommand::Create(_)
                    | LifecycleCommand::Supervise(_)
            ) | AllCommand::Build(_)
        )
    }
}

// ANCHOR: dispatch
/// Carry out one subcommand; returns the exit code.
pub fn dispatch(engine: &Engine, command: AllCommand) -> anyhow::Result<i32> {
    match command {
        AllCommand::Lifecycle(command) => lifecycle_dispatch(engine, command),
        AllCommand::Build(command) => build::dispatch(engine, command),
        AllCommand::Images(command) => image_dispatch(engine, command),
    }
}

/// Carry out one of chapter 6's subcommands.
pub fn lifecycle_dispatch(engine: &Engine, command: LifecycleCommand) -> anyhow::Result<i32> {
    match command {
        LifecycleCommand::Run(args) => run6::run(engine, *args),
        LifecycleCommand::Create(args) => run6::create(engine, *args),
        LifecycleCommand::Start(args) => run6::start(engine, args),
        LifecycleCommand::Stop(args) => lifecycle::stop(engine, args),
        LifecycleCommand::Restart(args) => run6::restart(engine, args),
        LifecycleCommand::Kill(args) => lifecycle::kill(engine, args),
        LifecycleCommand::Wait(args) => lifecycle::wait(engine, args),
        LifecycleCommand::Exec(args) => run6::exec(engine, args),
        LifecycleCommand::Attach { container } => run6::attach(engine, &container),
        LifecycleCommand::Ps(args) => lifecycle::ps(engine, args),
        LifecycleCommand::Logs(args) => lifecycle::logs(engine, args),
        LifecycleCommand::Rm(args) => lifecycle::rm(engine, args),
        LifecycleCommand::Top { container } => lifecycle::top(engine, &container),
        LifecycleCommand::Cp { from, to } => {
            use cratebox_runtime::cp::parse_end;
            engine.copy(&parse_end(&from), &parse_end(&to))?;
            Ok(0)
        }
        LifecycleCommand::Stats(args) => lifecycle::stats(engine, args),
        LifecycleCommand::Rename(args) => lifecycle::rename(engine, args),
        LifecycleCommand::Inspect(args) => lifecycle::inspect(engine, args),
        LifecycleCommand::Container { command } => match command {
            ContainerSubcommand::Prune => lifecycle::prune(engine),
        },
        LifecycleCommand::Volume { command } => lifecycle::volume(engine, command),
        LifecycleCommand::Supervise(args) => run6::supervise_hidden(engine, args),
        LifecycleCommand::Health(args) => run6::health_hidden(engine, args),
    }
}
// ANCHOR_END: dispatch

/// End the program as docker's ends: the code, or one line on stderr and
/// the code of the error. A container's own verdict (126, 127) passes
/// through; our failures are 125 for a subcommand that `runs` a command
/// (run, create), 1 for the rest.
pub fn exit_with(program: &str, runs: bool, outcome: anyhow::Result<i32>) -> ! {
    match outcome {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            eprintln!("{program}: {}", cratebox_cli::one_line(&error));
            let code = match cratebox_cli::exit_code_of(&error) {
                125 if !runs => 1,
                code => code,
            };
            std::process::exit(code)
        }
    }
}

/// The `main` of `cratebox` and `ch06-containers`: parse, check root,
/// open the state, dispatch, and exit as docker does.
pub fn main_for(program: &str, command: AllCommand) -> ! {
    let runs = command.runs_a_command();
    let outcome = (|| {
        cratebox_cli::require_root(program, "run containers")?;
        let engine = crate::open_engine()?;
        dispatch(&engine, command)
    })();
    exit_with(program, runs, outcome)
}
