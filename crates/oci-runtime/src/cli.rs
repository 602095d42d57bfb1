//! runc's command line, so that an engine configured for runc can use
//! this runtime instead: the same subcommands, flags and exit codes.
//!
//! ```text
//! cratebox-runtime [--root DIR] [--log FILE] [--log-format text|json]
//!   create [--bundle DIR] [--pid-file F] [--console-socket S] [--preserve-fds N] ID
//!   start ID | state ID | kill [--all] ID [SIGNAL] | delete [--force] ID
//!   exec [--process FILE] [--tty] [--console-socket S] [--detach] [--pid-file F] ID [COMMAND...]
//!   ps [--format table|json] ID | list | features | spec | run [--bundle DIR] ID
//! ```
//!
//! An error is one line on stderr, `cratebox-runtime: ...`, and exit code
//! 1; with `--log FILE --log-format json` (what podman and containerd
//! pass) it is also a JSON line in that file, where the engine reads it
//! to show its user.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;

use clap::{Parser, Subcommand, ValueEnum};

use crate::create::{create, CreateOptions};
use crate::exec::{exec, ExecOptions};
use crate::operations;
use crate::state::DEFAULT_ROOT;
use crate::RuntimeError;

/// An OCI runtime made of cratebox's isolation code (chapter 10).
#[derive(Debug, Parser)]
#[command(name = "cratebox-runtime", version = concat!(env!("CARGO_PKG_VERSION"), "\nspec: 1.2.0"))]
pub struct Cli {
    /// Where container records live.
    #[arg(long, global = true, env = "CRATEBOX_RUNTIME_ROOT", default_value = DEFAULT_ROOT)]
    pub root: PathBuf,
    /// Also write errors and warnings to this file.
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// How to write them there.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Let systemd manage the cgroups (refused: this runtime uses cgroupfs).
    #[arg(long, global = true)]
    pub systemd_cgroup: bool,
    /// More output (accepted; this runtime has none).
    #[arg(long, global = true)]
    pub debug: bool,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The format of `--log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `time level message`.
    Text,
    /// One JSON object per line: level, msg, time.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up a container from a bundle; its process waits for `start`.
    Create {
        /// The bundle directory (default: the current one).
        #[arg(long, short, default_value = ".")]
        bundle: PathBuf,
        /// Write the container's pid here.
        #[arg(long)]
        pid_file: Option<PathBuf>,
        /// A Unix socket to send the terminal's master to.
        #[arg(long)]
        console_socket: Option<PathBuf>,
        /// Pass this many descriptors after stdio to the program.
        #[arg(long, default_value_t = 0)]
        preserve_fds: i32,
        /// Do not use pivot_root (refused: this runtime always pivots).
        #[arg(long)]
        no_pivot: bool,
        /// Do not make a session keyring (this runtime never makes one).
        #[arg(long)]
        no_new_keyring: bool,
        /// The new container's id.
        id: String,
    },
    /// Run the program of a created container.
    Start {
        /// The container.
        id: String,
    },
    /// Print the container's state as the spec's JSON.
    State {
        /// The container.
        id: String,
    },
    /// Send a signal to the container's process.
    Kill {
        /// To every process in the container's cgroup.
        #[arg(long, short)]
        all: bool,
        /// The container.
        id: String,
        /// The signal, by name or number.
        #[arg(default_value = "TERM")]
        signal: String,
    },
    /// Remove a stopped container's cgroup and record.
    Delete {
        /// Kill it first if it still runs.
        #[arg(long, short)]
        force: bool,
        /// The container.
        id: String,
    },
    /// Run another process in a running container.
    Exec {
        /// A JSON file with the process, as config.json's `process`.
        #[arg(long, short)]
        process: Option<PathBuf>,
        /// Give it a terminal (needs --console-socket).
        #[arg(long, short)]
        tty: bool,
        /// A Unix socket to send the terminal's master to.
        #[arg(long)]
        console_socket: Option<PathBuf>,
        /// Do not wait for it.
        #[arg(long, short)]
        detach: bool,
        /// Write its pid here.
        #[arg(long)]
        pid_file: Option<PathBuf>,
        /// Its working directory.
        #[arg(long)]
        cwd: Option<PathBuf>,
        /// More environment, NAME=VALUE.
        #[arg(long, short)]
        env: Vec<String>,
        /// UID[:GID].
        #[arg(long, short)]
        user: Option<String>,
        /// Pass this many descriptors after stdio to it.
        #[arg(long, default_value_t = 0)]
        preserve_fds: i32,
        /// The container.
        id: String,
        /// The command, without --process.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// List the container's processes.
    Ps {
        /// table or json.
        #[arg(long, short, default_value = "table")]
        format: String,
        /// The container.
        id: String,
        /// ps options (accepted, not used).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_args: Vec<String>,
    },
    /// List every container.
    List,
    /// What this runtime supports, as JSON.
    Features,
    /// Write a config.json to start from.
    Spec {
        /// Where (default: the current directory).
        #[arg(long, short, default_value = ".")]
        bundle: PathBuf,
    },
    /// create, start, wait for the program, delete: one container, in the foreground.
    Run {
        /// The bundle directory.
        #[arg(long, short, default_value = ".")]
        bundle: PathBuf,
        /// The container's id.
        id: String,
    },
}

struct Log {
    file: PathBuf,
    format: LogFormat,
}

static LOG: OnceLock<Log> = OnceLock::new();

/// A line in `--log` only (not on stderr, which may be the container's).
pub fn log_only(level: &str, message: &str) {
    let Some(log) = LOG.get() else { return };
    let time = humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string();
    let line = match log.format {
        LogFormat::Json => {
            serde_json::json!({"level": level, "msg": message, "time": time}).to_string()
        }
        LogFormat::Text => format!("{time} {level} {message}"),
    };
    if let Ok(mut file) = OpenOptions::new().create(true).append(true).open(&log.file) {
        let _ = writeln!(file, "{line}");
    }
}

/// A warning: on stderr and in `--log`.
pub fn log_warning(message: &str) {
    eprintln!("cratebox-runtime: warning: {message}");
    log_only("warning", message);
}

/// Run the command line; the process's exit code.
pub fn run(cli: Cli) -> i32 {
    if let Some(file) = cli.log.clone() {
        let _ = LOG.set(Log {
            file,
            format: cli.log_format,
        });
    }
    match dispatch(cli) {
        Ok(code) => code,
        Err(error) => {
            let message = error.to_string();
            eprintln!("cratebox-runtime: {message}");
            log_only("error", &message);
            1
        }
    }
}

fn dispatch(cli: Cli) -> Result<i32, RuntimeError> {
    if cli.systemd_cgroup {
        return Err(RuntimeError::Unsupported(
            "--systemd-cgroup is not supported: this runtime makes cgroups itself, in cgroupfs; configure the engine for cgroupfs (podman: --cgroup-manager=cgroupfs)".into(),
        ));
    }
    let root = cli.root;
    match cli.command {
        Command::Create {
            bundle,
            pid_file,
            console_socket,
            preserve_fds,
            no_pivot,
            no_new_keyring: _,
            id,
        } => {
            if no_pivot {
                return Err(RuntimeError::Unsupported(
                    "--no-pivot is not supported: this runtime always uses pivot_root".into(),
                ));
            }
            create(&CreateOptions {
                root,
                id,
                bundle,
                pid_file,
                console_socket,
                preserve_fds,
            })?;
        }
        Command::Start { id } => operations::start(&root, &id)?,
        Command::State { id } => println!("{}", operations::state(&root, &id)?),
        Command::Kill { all, id, signal } => {
            operations::kill(&root, &id, operations::parse_signal(&signal)?, all)?
        }
        Command::Delete { force, id } => operations::delete(&root, &id, force)?,
        Command::Exec {
            process,
            tty,
            console_socket,
            detach,
            pid_file,
            cwd,
            env,
            user,
            preserve_fds,
            id,
            command,
        } => {
            return exec(&ExecOptions {
                root,
                id,
                process,
                args: command,
                env,
                cwd,
                user,
                tty,
                console_socket,
                detach,
                pid_file,
                preserve_fds,
            })
        }
        Command::Ps {
            format,
            id,
            ps_args: _,
        } => {
            println!("{}", operations::ps(&root, &id, format == "json")?)
        }
        Command::List => println!("{}", operations::list(&root)),
        Command::Features => println!("{}", crate::features::features()),
        Command::Spec { bundle } => {
            let path = bundle.join("config.json");
            if path.exists() {
                return Err(RuntimeError::Unsupported(format!(
                    "{} exists already: remove it first",
                    path.display()
                )));
            }
            std::fs::write(&path, crate::features::example_config())
                .map_err(|e| RuntimeError::io(&path, e))?;
        }
        Command::Run { bundle, id } => return operations::run(&root, &id, &bundle),
    }
    Ok(0)
}
