//! # cratebox-cli: the conventions every chapter binary shares
//!
//! Each chapter is its own program, but they all take their options first,
//! then the command and its arguments (`ch02-namespaces --hostname web sh -c
//! 'hostname'`), use the demo image when no `--rootfs` is given, run a shell
//! on a terminal and a short demo otherwise, and end with the container's
//! exit code. That shared behaviour lives here so no chapter copies it.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use cratebox_cgroups::limits::{self, Limits};
use cratebox_runtime::{EngineError, RunError};
use cratebox_sandbox::idmap::DEFAULT_USERNS_RANGE;
use cratebox_sandbox::{
    ContainerCommand, ContainerConfig, ContainerError, Namespaces, UserNamespace,
};

/// The arguments every chapter takes: where the root file system is, and
/// what to run in it.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Directory to use as the container's root file system [default: the
    /// demo image, built under $CRATEBOX_ROOT on first use]
    #[arg(long, value_name = "DIR")]
    pub rootfs: Option<PathBuf>,

    /// The command to run and its arguments; everything after the command's
    /// name belongs to it, options included [default: a shell on a
    /// terminal, else a short demo]
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
}

impl RunArgs {
    /// The rootfs to use: `--rootfs`, or the demo image (built if needed).
    pub fn rootfs(&self) -> anyhow::Result<PathBuf> {
        match &self.rootfs {
            Some(dir) => Ok(dir.clone()),
            None => {
                let state = cratebox_demo_image::state_root();
                cratebox_demo_image::ensure(&state).context("cannot prepare the demo image")
            }
        }
    }

    /// The command to run: as given, else an interactive shell when stdin is
    /// a terminal, else `/bin/sh -c DEMO`.
    pub fn command(&self, demo: &str) -> Vec<String> {
        if !self.command.is_empty() {
            self.command.clone()
        } else if std::io::stdin().is_terminal() {
            vec!["/bin/sh".to_string()]
        } else {
            vec!["/bin/sh".to_string(), "-c".to_string(), demo.to_string()]
        }
    }
}

/// Chapter 2's isolation flags, which every later chapter takes too.
#[derive(Debug, Args)]
pub struct IsolationArgs {
    /// Hostname inside the container
    #[arg(long, value_name = "NAME", default_value = "cratebox")]
    pub hostname: String,

    /// Also create a user namespace: root inside is uid 100000 outside
    #[arg(long)]
    pub userns: bool,
}

impl IsolationArgs {
    /// `--userns` as the sandbox names it.
    pub fn user_namespace(&self) -> UserNamespace {
        UserNamespace::from_flag(self.userns)
    }

    /// The hostname and user namespace, as the runtime takes them.
    pub fn isolation(&self) -> cratebox_runtime::layered::Isolation {
        cratebox_runtime::layered::Isolation {
            hostname: self.hostname.clone(),
            user_namespace: self.user_namespace(),
        }
    }

    /// The container to run: `command` in `rootfs`, in every namespace.
    /// (The hostname is checked by `spawn`; the chapters also check it
    /// first thing, so a typo costs nothing, not even the root check.)
    pub fn config(&self, rootfs: PathBuf, command: Vec<String>) -> anyhow::Result<ContainerConfig> {
        let mut command = ContainerCommand::new(command);
        command.set_env("HOSTNAME", &self.hostname);
        Ok(ContainerConfig {
            rootfs,
            hostname: self.hostname.clone(),
            namespaces: Namespaces::all(self.user_namespace()),
            id_range: DEFAULT_USERNS_RANGE,
            command,
            overlay: None,
            stdio: None,
            mounts: Vec::new(),
            join_network: None,
            paths: Default::default(),
            devices: Vec::new(),
        })
    }
}

/// Chapter 3's resource limits, with docker's flag names and value forms.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Memory limit, e.g. 32m or 1g (b, k, m, g: powers of 1024)
    #[arg(short = 'm', long, value_name = "SIZE", value_parser = clap_parser(limits::parse_memory))]
    pub memory: Option<u64>,

    /// Memory plus swap limit, or -1 for unlimited swap [default: twice --memory]
    #[arg(long, value_name = "SIZE", allow_negative_numbers = true, value_parser = clap_parser(limits::parse_swap))]
    pub memory_swap: Option<limits::Swap>,

    /// Number of CPUs, e.g. 0.5 or 1.5 (CPU time per 100 ms period)
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = clap_parser(limits::parse_cpus))]
    pub cpus: Option<limits::CpuQuota>,

    /// Relative CPU weight, 2 to 262144 (default 1024)
    #[arg(long, value_name = "N", value_parser = clap_parser(limits::parse_shares))]
    pub cpu_shares: Option<u64>,

    /// Maximum number of processes, e.g. 100
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = clap_parser(limits::parse_pids))]
    pub pids_limit: Option<u64>,

    /// CPUs the container may run on, e.g. 0 or 0-1 or 0,2
    #[arg(long, value_name = "LIST")]
    pub cpuset_cpus: Option<String>,

    /// Print peak memory, CPU time and peak process count at the end
    #[arg(long)]
    pub stats: bool,
}

/// A limit parser as clap wants one: clap already names the flag and the
/// value, so the error keeps only the accepted forms.
fn clap_parser<T>(
    parse: fn(&str) -> Result<T, limits::LimitError>,
) -> impl Fn(&str) -> Result<T, String> + Clone {
    move |value| parse(value).map_err(|e| e.expected.to_string())
}

impl LimitArgs {
    /// The limits asked for.
    pub fn limits(&self) -> anyhow::Result<Limits> {
        let cpuset_cpus = match &self.cpuset_cpus {
            Some(list) => {
                let available = std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1);
                Some(limits::parse_cpuset(list, available)?)
            }
            None => None,
        };
        Ok(Limits {
            memory: self.memory,
            memory_swap: self.memory_swap,
            cpus: self.cpus,
            cpu_shares: self.cpu_shares,
            pids: self.pids_limit,
            cpuset_cpus,
            collect_stats: self.stats,
        })
    }
}

/// Refuse to go on unless we are root, naming the privileged thing `what`
/// we are about to do.
pub fn require_root(program: &str, what: &str) -> anyhow::Result<()> {
    if !nix::unistd::geteuid().is_root() {
        bail!(
            "{program} needs root to {what}: run it as root (e.g. `sudo {program} ...`), or with `cargo run`, which goes through sudo for you"
        );
    }
    Ok(())
}

/// An error and its causes on one line, "what: why: deeper why", leaving
/// out a cause whose text the message before it already contains (our
/// library errors often name their cause themselves).
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        // io errors read "Not a directory (os error 20)"; compare the words.
        let words = text
            .split(" (os error")
            .next()
            .unwrap_or(&text)
            .to_lowercase();
        if line.to_lowercase().contains(&words) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
/// Run `body` and exit the way a container engine does: with the
/// container's exit code, or after one line on stderr with 125 (our own
/// failure), 126 (command not runnable) or 127 (command not found).
pub fn exit_with(program: &str, body: impl FnOnce() -> anyhow::Result<i32>) -> ! {
    match body() {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            eprintln!("{program}: {}", one_line(&error));
            std::process::exit(exit_code_of(&error))
        }
    }
}

/// The exit code an error stands for: the first error in the chain that
/// knows one (a context added on the way does not hide it), else 125.
pub fn exit_code_of(error: &anyhow::Error) -> i32 {
    error
        .chain()
        .find_map(|cause| {
            if let Some(error) = cause.downcast_ref::<ContainerError>() {
                Some(error.exit_code())
            } else if let Some(error) = cause.downcast_ref::<RunError>() {
                Some(error.exit_code())
            } else {
                cause
                    .downcast_ref::<EngineError>()
                    .map(EngineError::exit_code)
            }
        })
        .unwrap_or(cratebox_sandbox::report::SETUP_FAILED)
}
