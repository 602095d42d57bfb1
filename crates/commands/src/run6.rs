//! `run`, `create`, `start`, `restart`: containers that live on (chapter 6).
//!
//! A container is made once (`create`, the first half of `run`) with
//! everything it needs to run kept in its record; every start then hands
//! it to a supervisor. In the foreground (`run`, `start -a`) this program
//! is the supervisor. Detached (`run -d`, `start`), it starts itself
//! again in a hidden mode, [`SUPERVISE`], waits for one line saying the
//! container runs (or why not), and returns.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use cratebox_cli::LimitArgs;
use cratebox_network::ports::parse_publish;
use cratebox_runtime::attach::{attach_client, socket_path, Ending};
use cratebox_runtime::containers::{random_id, Record, RestartPolicy, Spec};
use cratebox_runtime::engine::Engine;
use cratebox_runtime::exec::ExecRequest;
use cratebox_runtime::lifecycle::{CreateRequest, HealthFlags};
use cratebox_runtime::net::{NetworkMode, NetworkSpec};
use cratebox_runtime::supervisor::{resume, supervise, Echo, Ready};
use cratebox_runtime::volumes::{parse_mount, parse_tmpfs, parse_volume};
use cratebox_runtime::EngineError;
use nix::fcntl::OFlag;

use crate::program;

pub use cratebox_runtime::supervisor::{HEALTH, SUPERVISE};

pub use crate::flags::{parse_duration, parse_env_file, parse_restart};

/// The network a container joins without `--network`: chapter 6's
/// program keeps chapter 2's (only `lo`); chapter 7's and `cratebox` say
/// `bridge`, as docker does, with [`set_default_network`].
static DEFAULT_NETWORK: std::sync::OnceLock<NetworkMode> = std::sync::OnceLock::new();

/// Set the network containers join without `--network`.
pub fn set_default_network(mode: NetworkMode) {
    let _ = DEFAULT_NETWORK.set(mode);
}

fn default_network() -> NetworkMode {
    DEFAULT_NETWORK.get().cloned().unwrap_or_default()
}

/// `create`'s and `run`'s options: what the container is.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Name for the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set an environment variable (NAME=VALUE, or NAME to pass ours on)
    #[arg(short = 'e', long = "env", value_name = "NAME[=VALUE]")]
    pub env: Vec<String>,
    /// Read environment variables from a file, one NAME=VALUE per line
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    pub workdir: Option<String>,
    /// User to run as: name, uid, name:group or uid:gid
    #[arg(short = 'u', long, value_name = "USER[:GROUP]")]
    pub user: Option<String>,
    /// Mount a volume or host path: NAME:PATH, /HOST:PATH[:ro], or PATH (an anonymous volume)
    #[arg(short = 'v', long = "volume", value_name = "SOURCE:TARGET[:ro]")]
    pub volume: Vec<String>,
    /// Mount: type=bind|volume|tmpfs,source=...,target=...[,readonly]
    #[arg(long, value_name = "SPEC")]
    pub mount: Vec<String>,
    /// Mount a tmpfs: PATH[:size=64m,mode=755]
    #[arg(long, value_name = "PATH[:OPTIONS]")]
    pub tmpfs: Vec<String>,
    /// Run this program instead of the image's ENTRYPOINT ("" for none)
    #[arg(long, value_name = "PROGRAM")]
    pub entrypoint: Option<String>,
    /// Restart policy: no, on-failure[:MAX] or always
    #[arg(long, value_name = "POLICY", default_value = "no", value_parser = parse_restart)]
    pub restart: RestartPolicy,
    /// Keep stdin open (in the foreground: ours)
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Give the container a terminal (with -i: yours, in raw mode, relayed)
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Run an init as PID 1 (cratebox always does: the tiny init of chapter 2)
    #[arg(long)]
    pub init: bool,
    /// Hostname inside the container [default: the short id]
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// Also create a user namespace: root inside is uid 100000 outside
    #[arg(long)]
    pub userns: bool,
    /// Remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// A health check to run in the container (through /bin/sh -c)
    #[arg(long, value_name = "COMMAND")]
    pub health_cmd: Option<String>,
    /// Time between health checks, e.g. 30s, 500ms
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub health_interval: Option<Duration>,
    /// How long one health check may take
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub health_timeout: Option<Duration>,
    /// Failures in this time after the start do not count
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub health_start_period: Option<Duration>,
    /// Failures in a row that make the container unhealthy
    #[arg(long, value_name = "N")]
    pub health_retries: Option<u32>,
    /// No health check, whatever the image says
    #[arg(long)]
    pub no_healthcheck: bool,
    /// The network: bridge, none, host, container:NAME or a network's name
    /// [default: bridge for chapter 7 and cratebox, none for chapter 6]
    #[arg(long)]
    pub network: Option<String>,
    /// Publish a port: [IP:][HOST:]CONTAINER[/tcp|/udp], e.g. 8080:80
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish every port the image EXPOSEs, each on a free host port
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub security: crate::flags::SecurityArgs,
    /// The image, e.g. demo or myimage:v1
    pub image: String,
    /// Command and arguments [default: the image's]
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// `run [OPTIONS] IMAGE [COMMAND]...`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run in the background and print the container's id
    #[arg(short = 'd', long)]
    pub detach: bool,
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `start [-a] CONTAINER...`
#[derive(Debug, Args)]
pub struct StartArgs {
    /// Stay with the container: its output here, its exit code ours
    #[arg(short = 'a', long)]
    pub attach: bool,
    /// Names or ids
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// `restart [-t SECS] CONTAINER...`
#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Seconds to wait for it to stop before killing it
    #[arg(short = 't', long = "time", default_value_t = 10)]
    pub time: u64,
    /// Names or ids
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// `exec [-d] [-i] [-e K=V] [-w DIR] [-u USER] CONTAINER COMMAND...`
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Start it and return at once
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Pass our stdin to it
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Give it a terminal (with -i: yours, in raw mode, relayed)
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Set an environment variable (NAME=VALUE, or NAME to pass ours on)
    #[arg(short = 'e', long = "env", value_name = "NAME[=VALUE]")]
    pub env: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    pub workdir: Option<String>,
    /// User to run as: name, uid, name:group or uid:gid
    #[arg(short = 'u', long, value_name = "USER[:GROUP]")]
    pub user: Option<String>,
    /// Name or id
    pub container: String,
    /// The command and its arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// `exec`: its exit code is ours.
pub fn exec(engine: &Engine, args: ExecArgs) -> anyhow::Result<i32> {
    let record = engine.containers.find(&args.container)?;
    let request = ExecRequest {
        command: args.command,
        env: args.env,
        working_dir: args.workdir,
        user: args.user,
        detach: args.detach,
        interactive: args.interactive,
        tty: args.tty,
    };
    if args.tty && args.interactive && !std::io::stdin().is_terminal() {
        bail!("the input device is not a terminal: drop -t, or run this from a terminal");
    }
    Ok(engine.exec(&record, &request)?)
}

// ANCHOR: attach
/// `attach CONTAINER`: our terminal joined to a detached container's;
/// Ctrl-P Ctrl-Q leaves it running, else its exit code is ours.
pub fn attach(engine: &Engine, container: &str) -> anyhow::Result<i32> {
    let record = engine.containers.find(container)?;
    if !record.is_running() {
        return Err(EngineError::NotRunning {
            container: record.name,
        }
        .into());
    }
    let socket = socket_path(&engine.containers.dir(&record.id));
    let ending = attach_client(&socket).with_context(|| {
        format!(
            "cannot attach to {} through {}",
            record.name,
            socket.display()
        )
    })?;
    match ending {
        Ending::Detached => {
            eprintln!("\r\nread escape sequence");
            Ok(0)
        }
        Ending::Closed => Ok(engine.wait(&record)?),
    }
}
// ANCHOR_END: attach

/// The hidden `__supervise ID --ready-fd N`, and `__supervise ID
/// --exited CODE` (the pump, once the container's run ended).
#[derive(Debug, Args)]
pub struct SuperviseArgs {
    /// The container's full id
    pub id: String,
    /// Where to write the line that says the container runs
    #[arg(long, conflicts_with = "exited")]
    pub ready_fd: Option<i32>,
    /// The run ended with this code: record it and go on
    #[arg(long, allow_negative_numbers = true)]
    pub exited: Option<i32>,
}

/// The hidden `__health ID`: one health check.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The container's full id
    pub id: String,
}

impl CreateArgs {
    /// What the engine makes the container from.
    fn request(&self) -> anyhow::Result<CreateRequest> {
        if self.rm && self.restart != RestartPolicy::No {
            bail!("conflicting options: --restart and --rm: a container removed when it ends cannot be restarted");
        }
        if let Some(hostname) = &self.hostname {
            cratebox_sandbox::hostname::validate_hostname(hostname)?;
        }
        let mut env = Vec::new();
        for file in &self.env_file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read --env-file {}", file.display()))?;
            let lines = parse_env_file(&text)
                .map_err(|why| anyhow::anyhow!("--env-file {}: {why}", file.display()))?;
            env.extend(lines);
        }
        env.extend(self.env.iter().cloned());
        let mut mounts = Vec::new();
        for value in &self.volume {
            mounts.push(parse_volume(value, &random_id()?)?);
        }
        for value in &self.mount {
            mounts.push(parse_mount(value, &random_id()?)?);
        }
        for value in &self.tmpfs {
            mounts.push(parse_tmpfs(value)?);
        }
        let mode = match &self.network {
            Some(name) => NetworkMode::parse(name),
            None => default_network(),
        };
        // Chapter 9: a bridge and its veths are made in the host's network
        // namespace, which only the host's root may change.
        if matches!(mode, NetworkMode::Bridge(_)) && cratebox_sandbox::rootless::in_user_namespace()
        {
            bail!(
                "rootless containers have no bridge network (it needs root on the host): use --network slirp4netns, or none"
            );
        }
        let mut publish = Vec::new();
        for value in &self.publish {
            publish.extend(parse_publish(value)?);
        }
        if (!publish.is_empty() || self.publish_all) && !matches!(mode, NetworkMode::Bridge(_)) {
            bail!(
                "ports are published on a bridge network only, not with --network {}: use --network bridge",
                mode.name()
            );
        }
        Ok(CreateRequest {
            name: self.name.clone(),
            publish_all: self.publish_all,
            command: self.command.clone(),
            entrypoint: self.entrypoint.clone(),
            env,
            working_dir: self.workdir.clone(),
            user: self.user.clone(),
            hostname: self.hostname.clone(),
            health: HealthFlags {
                cmd: self.health_cmd.clone(),
                interval: self.health_interval,
                timeout: self.health_timeout,
                start_period: self.health_start_period,
                retries: self.health_retries,
                none: self.no_healthcheck,
            },
            spec: Spec {
                user_namespace: self.userns,
                limits: self.limits.limits()?,
                open_stdin: self.interactive,
                tty: self.tty,
                restart: self.restart,
                auto_remove: self.rm,
                mounts,
                network: NetworkSpec {
                    mode,
                    publish,
                    also: Vec::new(),
                },
                security: self.security.spec()?,
                ..Spec::default()
            },
        })
    }
}

/// `create`: make the container, print its id; it starts with `start`.
pub fn create(engine: &Engine, args: CreateArgs) -> anyhow::Result<i32> {
    let record = engine.create_container(&args.image, &args.request()?)?;
    println!("{}", record.id);
    Ok(0)
}

// ANCHOR: run
/// `run`: create, then start. Detached, print the id once it runs; in the
/// foreground, supervise it here and end with its exit code.
pub fn run(engine: &Engine, args: RunArgs) -> anyhow::Result<i32> {
    if args.create.tty && args.create.interactive && !args.detach && !std::io::stdin().is_terminal()
    {
        bail!("the input device is not a terminal: drop -t, or run this from a terminal");
    }
    let record = engine.create_container(&args.create.image, &args.create.request()?)?;
    if args.detach {
        launch(engine, &record)?;
        println!("{}", record.id);
        return Ok(0);
    }
    foreground(engine, &record)
}
// ANCHOR_END: run

/// Supervise a container here: its output on ours, its exit code ours.
fn foreground(engine: &Engine, record: &Record) -> anyhow::Result<i32> {
    let mut failed = None;
    let ended = supervise(engine, &record.id, Echo::Terminal, |ready| {
        if let Err(failure) = ready {
            failed = Some(failure);
        }
    })?;
    if let Some((code, why)) = failed {
        return Err(EngineError::Start {
            container: record.name.clone(),
            code,
            why,
        }
        .into());
    }
    for line in ended.notes {
        eprintln!("{}: {line}", program());
    }
    Ok(ended.code)
}

/// `start`: each container under a new supervisor; with `-a`, one
/// container supervised here.
pub fn start(engine: &Engine, args: StartArgs) -> anyhow::Result<i32> {
    if args.attach {
        let [key] = args.containers.as_slice() else {
            bail!("start -a takes one container: start the others without -a");
        };
        let record = engine.prepare_start(&engine.containers.find(key)?)?;
        if record.is_running() {
            bail!(
                "container {} is already running: see its output with `logs -f {key}`",
                record.name
            );
        }
        return foreground(engine, &record);
    }
    for key in &args.containers {
        let record = engine.prepare_start(&engine.containers.find(key)?)?;
        if !record.is_running() {
            launch(engine, &record)?;
        }
        println!("{key}");
    }
    Ok(0)
}

/// `restart`: stop (as `stop -t`), then start.
pub fn restart(engine: &Engine, args: RestartArgs) -> anyhow::Result<i32> {
    for key in &args.containers {
        let record = engine.containers.find(key)?;
        engine.stop(&record, Duration::from_secs(args.time))?;
        let record = engine.prepare_start(&engine.containers.get(&record.id)?)?;
        launch(engine, &record)?;
        println!("{key}");
    }
    Ok(0)
}

// ANCHOR: launch
/// Start this program again as the container's supervisor, in a session
/// of its own (so a terminal's Ctrl-C or hangup never reaches it), and
/// wait for its one line: `ok`, or `err CODE WHY`.
fn launch(engine: &Engine, record: &Record) -> anyhow::Result<()> {
    let (ready_read, ready_write) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).context("cannot create a pipe")?;
    let ready_fd = ready_write.as_raw_fd();
    let dir = engine.containers.dir(&record.id);
    let log = File::create(dir.join("supervisor.log"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let program = std::env::current_exe().context("cannot find this program's file")?;
    let mut command = Command::new(program);
    command
        .arg(SUPERVISE)
        .arg(&record.id)
        .arg("--ready-fd")
        .arg(ready_fd.to_string())
        .env("CRATEBOX_ROOT", engine.state_root())
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    // ANCHOR: launch_setsid
    // SAFETY: between fork and exec the closure only makes system calls
    // (setsid, fcntl), which is what pre_exec allows.
    unsafe {
        command.pre_exec(move || {
            nix::unistd::setsid()?;
            // Keep the ready pipe open across exec, in this child only.
            nix::fcntl::fcntl(
                ready_fd,
                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
            )?;
            Ok(())
        })
    };
    // The supervisor is not our child for long: we exit right after, and
    // it is adopted by init (or the nearest subreaper), like conmon.
    let child = command
        .spawn()
        .context("cannot start the container's supervisor")?;
    drop(ready_write);
    let mut line = String::new();
    BufReader::new(File::from(ready_read))
        .read_line(&mut line)
        .context("cannot read from the container's supervisor")?;
    drop(child);
    // ANCHOR_END: launch_setsid
    match line.trim_end().split_once(' ') {
        None if line.trim_end() == "ok" => Ok(()),
        Some(("err", rest)) => {
            let (code, why) = rest.split_once(' ').unwrap_or(("125", rest));
            Err(EngineError::Start {
                container: record.name.clone(),
                code: code.parse().unwrap_or(125),
                why: why.to_string(),
            }
            .into())
        }
        _ => bail!(
            "the supervisor of {} ended before it started the container: see {}",
            record.name,
            dir.join("supervisor.log").display()
        ),
    }
}
// ANCHOR_END: launch

/// The hidden mode: supervise the container, telling whoever started us
/// through the ready pipe when it runs.
pub fn supervise_hidden(engine: &Engine, args: SuperviseArgs) -> anyhow::Result<i32> {
    if let Some(code) = args.exited {
        return Ok(resume(engine, &args.id, code)?.code);
    }
    // SAFETY: the fd was left open across exec for us by `launch`, and
    // nothing else in this process uses it.
    let mut ready_pipe = args.ready_fd.map(|fd| unsafe { File::from_raw_fd(fd) });
    let mut tell = |ready: Ready| {
        if let Some(mut pipe) = ready_pipe.take() {
            let line = match ready {
                Ok(()) => "ok\n".to_string(),
                Err((code, why)) => format!("err {code} {}\n", why.replace('\n', " ")),
            };
            let _ = pipe.write_all(line.as_bytes());
        }
    };
    let result = supervise(engine, &args.id, Echo::LogOnly, &mut tell);
    match result {
        Ok(ended) => {
            tell(Ok(()));
            Ok(ended.code)
        }
        Err(error) => {
            tell(Err((error.exit_code(), error.to_string())));
            Err(error.into())
        }
    }
}

/// The hidden mode the pump starts for each health check.
pub fn health_hidden(engine: &Engine, args: HealthArgs) -> anyhow::Result<i32> {
    cratebox_runtime::health::check_once(engine, &args.id)?;
    Ok(0)
}
