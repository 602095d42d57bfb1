//! Chapter 6: the supervisor, one process per running container.
//!
//! Until chapter 5, the program you typed waited for its container: when
//! it ended, so did the container. A container that lives on needs a
//! parent that lives on too, to hold its output, wait for it and write
//! down how it ended. docker has a daemon for that (and a shim per
//! container); podman has no daemon, and starts one small supervisor per
//! container, conmon. cratebox does as podman: `run -d` starts the same
//! program again in a hidden mode, as the container's supervisor, and
//! returns as soon as the container runs.
//!
//! ```text
//! cratebox run -d ──► supervisor (setsid, its own session)
//!      ▲  prints        │ pipes for stdout, stderr
//!      │  the id        │ start_limited (chapters 2–4) ──► init ──► command
//!      └── "ok" ────────┤ record: Running, pids, cgroup, StartedAt
//!                       │ execve ──► cratebox-pump (crates/pump): pipes →
//!                       │   <id>-json.log, signals → init, attach, health timer
//!                       │ init ends: execve ──► cratebox __supervise ID --exited CODE
//!                       │ record: exit code, OOM, FinishedAt; cgroup removed
//!                       ▼ --restart? run again : --rm? remove : exit
//! ```
//!
//! While the container runs, its supervisor *is* the pump, a program of a
//! few kilobytes: the full `cratebox` is only there to start and to end.
//! A foreground `run` does the pump's work in the program itself, and
//! also copies the output to its own stdout and stderr.

use std::ffi::{CString, OsString};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::unistd::{execve, pipe2};

use cratebox_cgroups::Stats;
use cratebox_sandbox::process::ProcessStamp;
use cratebox_sandbox::terminal::{open_pty, RawMode};
use cratebox_sandbox::{ContainerCommand, UserNamespace};

use crate::attach::{listen, socket_path};
use crate::containers::{now, Record, RestartPolicy, Spec, Status};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::foreground::{health_command, pump, HealthTimer};
use crate::health::{Health, HealthConfig};
use crate::layered::{config_on_layers, Isolation};
use crate::logs::{LogWriter, Stream};
use crate::net::NetworkMode;
use crate::{explain, start_limited_with, ContainerCgroup, RunOutcome, Running};

/// Where the container's output goes besides its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Only the log: a detached container.
    LogOnly,
    /// Also our own stdout and stderr: a foreground `run` or `start -a`.
    Terminal,
}

/// What a supervisor tells the program that started it, once: the
/// container runs, or could not start (with its exit code and why).
pub type Ready = Result<(), (i32, String)>;

/// How the supervisor's last run ended.
#[derive(Debug, Clone)]
pub struct Ended {
    /// The exit code.
    pub code: i32,
    /// What to tell about it (OOM, pids limit), as chapter 3 does.
    pub notes: Vec<String>,
}

/// The hidden subcommand that runs a container's supervisor.
pub const SUPERVISE: &str = "__supervise";
/// The hidden subcommand that runs one health check.
pub const HEALTH: &str = "__health";

// ANCHOR: supervise
/// Supervise container `id` until it ends for good: run it, and again as
/// its `--restart` policy says; then remove it if it was made with `--rm`.
/// `ready` is called once, when the first run has started or failed to.
/// A detached run (`Echo::LogOnly`) hands over to the pump and does not
/// return here: [`resume`] takes over when the run ended.
pub fn supervise(
    engine: &Engine,
    id: &str,
    echo: Echo,
    ready: impl FnMut(Ready),
) -> Result<Ended, EngineError> {
    supervise_from(engine, id, echo, ready, None)
}

/// Go on supervising container `id` after the pump saw its run end with
/// `code`: record it, clean up, restart or remove.
pub fn resume(engine: &Engine, id: &str, code: i32) -> Result<Ended, EngineError> {
    supervise_from(engine, id, Echo::LogOnly, |_| {}, Some(code))
}

fn supervise_from(
    engine: &Engine,
    id: &str,
    echo: Echo,
    mut ready: impl FnMut(Ready),
    mut resumed: Option<i32>,
) -> Result<Ended, EngineError> {
    let record = engine.containers.get(id)?;
    let spec = record
        .spec
        .clone()
        .ok_or_else(|| EngineError::NotStartable {
            container: record.name.clone(),
        })?;
    let lowers = engine.lowers_of(&record)?;
    let me = ProcessStamp::of(std::process::id());
    let mut ended;
    loop {
        let outcome = match resumed.take() {
            Some(code) => run_ended(engine, id, code),
            None => {
                // Claim the container, unless a `stop` came first, or
                // another supervisor has it (two `start`s at once).
                let claimed = engine.containers.update(id, |r| {
                    if r.state.stopping || (r.is_running() && r.state.supervisor != me) {
                        return;
                    }
                    r.status = Status::Running {
                        pid: std::process::id(),
                    };
                    r.state.supervisor = me.clone();
                    r.state.error = None;
                    r.state.health = None;
                })?;
                if !matches!(claimed.status, Status::Running { .. })
                    || claimed.state.supervisor != me
                {
                    ended = Ended {
                        code: exit_of(&claimed),
                        notes: Vec::new(),
                    };
                    break;
                }
                run_once(engine, &claimed, &spec, &lowers, echo, &mut ready)
            }
        };
        let (code, oom, error, notes) = match outcome {
            Ok(outcome) => (
                outcome.code,
                outcome.stats.oom_kills > 0,
                None,
                explain(&outcome, &spec.limits),
            ),
            Err(error) => (
                error.exit_code(),
                false,
                Some(error.to_string()),
                Vec::new(),
            ),
        };
        let started = error.is_none();
        if matches!(spec.network.mode, NetworkMode::Bridge(_)) {
            // Its ports go, and its network's bridge if it was the last.
            if let Err(error) = engine.network_ended(id) {
                eprintln!("cratebox: {error}");
            }
        }
        // ANCHOR: supervise_ended
        let record = engine.containers.update(id, |r| {
            r.status = Status::Exited { code };
            r.state.init = None;
            r.state.cgroup = None;
            r.state.networks.clear();
            r.state.finished_at = Some(now());
            r.state.oom_killed = oom;
            r.state.error = error.clone();
        })?;
        ended = Ended { code, notes };
        if !started || !restarts(&spec.restart, code, &record) {
            break;
        }
        let record = engine
            .containers
            .update(id, |r| r.state.restart_count += 1)?;
        std::thread::sleep(backoff(record.state.restart_count));
        // ANCHOR_END: supervise_ended
    }
    // ANCHOR_END: supervise
    let record = engine.containers.update(id, |r| {
        if r.state.supervisor == me {
            r.state.supervisor = None;
            if matches!(r.status, Status::Running { .. }) {
                r.status = Status::Exited { code: ended.code };
            }
        }
    })?;
    if spec.auto_remove {
        // --rm takes the container's anonymous volumes with it, as docker.
        engine.remove(&record, false, true)?;
    }
    Ok(ended)
}

/// How long to wait before restart number `count` (from 1): 100 ms,
/// doubled each time, at most 10 s, as docker.
fn backoff(count: u32) -> Duration {
    let doublings = count.saturating_sub(1).min(7);
    (Duration::from_millis(100) * 2u32.pow(doublings)).min(Duration::from_secs(10))
}

/// A run the pump saw end with `code`: read what its cgroup counted,
/// remove the cgroup and the attach socket.
fn run_ended(engine: &Engine, id: &str, code: i32) -> Result<RunOutcome, EngineError> {
    let record = engine.containers.get(id)?;
    let _ = std::fs::remove_file(socket_path(&engine.containers.dir(id)));
    let stats = match record.state.cgroup {
        Some(cgroup) => ContainerCgroup::adopt(cgroup).finish()?,
        None => Stats::default(),
    };
    Ok(RunOutcome { code, stats })
}

/// The code a record says its container exited with (-1: unknown).
fn exit_of(record: &Record) -> i32 {
    match record.live_status() {
        Status::Exited { code } => code,
        _ => -1,
    }
}

// ANCHOR: restarts
/// Whether `--restart` runs the container again after it exited with
/// `code`. Never after `stop`, `kill` or `rm -f`.
pub fn restarts(policy: &RestartPolicy, code: i32, record: &Record) -> bool {
    if record.state.stopping {
        return false;
    }
    match *policy {
        RestartPolicy::No => false,
        RestartPolicy::Always => true,
        RestartPolicy::OnFailure { max } => {
            code != 0 && (max == 0 || record.state.restart_count < max)
        }
    }
}
// ANCHOR_END: restarts

/// One run of the container: start it with pipes for its output, record
/// that it runs, pump its output into the log until it ends.
fn run_once(
    engine: &Engine,
    record: &Record,
    spec: &Spec,
    lowers: &[std::path::PathBuf],
    echo: Echo,
    ready: &mut impl FnMut(Ready),
) -> Result<RunOutcome, EngineError> {
    let io = |what: &'static str| {
        move |errno: Errno| EngineError::Io {
            what,
            path: "pipe".into(),
            source: errno.into(),
        }
    };
    // The container's stdio: two pipes (stdout, stderr), or with -t one
    // terminal for all three. What we read from is `outputs`; the ends
    // the container gets are `theirs`, closed here once it has them.
    // With -i and no terminal, a detached container's stdin is a pipe,
    // whose other end the pump keeps, for what `attach` sends.
    let mut stdin_writer = None;
    let (outputs, theirs, master) = match spec.tty {
        false => {
            let (out_read, out_write) = pipe2(OFlag::O_CLOEXEC).map_err(io("create"))?;
            let (err_read, err_write) = pipe2(OFlag::O_CLOEXEC).map_err(io("create"))?;
            // Without -i, stdin is empty, as in docker; with -i in the
            // foreground it is ours.
            let stdin: OwnedFd = match (spec.open_stdin, echo) {
                (true, Echo::Terminal) => {
                    std::io::stdin()
                        .as_fd()
                        .try_clone_to_owned()
                        .map_err(|source| EngineError::Io {
                            what: "use",
                            path: "stdin".into(),
                            source,
                        })?
                }
                (true, Echo::LogOnly) => {
                    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(io("create"))?;
                    stdin_writer = Some(write_end);
                    read_end
                }
                (false, _) => null()?,
            };
            (
                vec![(out_read, Stream::Stdout), (err_read, Stream::Stderr)],
                [stdin, out_write, err_write],
                None,
            )
        }
        true => {
            let stdin = std::io::stdin();
            let like = (echo == Echo::Terminal).then(|| stdin.as_fd());
            let pty = open_pty(like).map_err(io("open"))?;
            let master = pty.master.try_clone().map_err(|source| EngineError::Io {
                what: "use",
                path: "a pseudo-terminal".into(),
                source,
            })?;
            let slave = || {
                pty.slave.try_clone().map_err(|source| EngineError::Io {
                    what: "use",
                    path: "a pseudo-terminal".into(),
                    source,
                })
            };
            (
                vec![(pty.master, Stream::Stdout)],
                [slave()?, slave()?, slave()?],
                Some(master),
            )
        }
    };
    let mut command = ContainerCommand::new(record.command.clone());
    for pair in &spec.env {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        command.set_env(name, value);
    }
    command.cwd = spec.working_dir.clone();
    command.user = spec.user.clone();
    // Chapter 9: checked at create, so this fails only when the host
    // changed since (a --device removed).
    let (security, devices) = match spec
        .security
        .process()
        .and_then(|process| Ok((process, spec.security.host_devices()?)))
    {
        Ok(both) => both,
        Err(error) => {
            let error = EngineError::from(error);
            ready(Err((error.exit_code(), error.to_string())));
            return Err(error);
        }
    };
    command.security = security;
    let isolation = Isolation {
        hostname: spec.hostname.clone(),
        user_namespace: UserNamespace::from_flag(spec.user_namespace),
    };
    let top = engine.containers.dirs(&record.id);
    let mut config = config_on_layers(lowers, &top, command, &isolation)?;
    config.mounts = engine.extra_mounts(&spec.mounts);
    config.paths = spec.security.paths();
    config.devices = devices;
    // Chapter 7: an address, ports and /etc files before the spawn.
    let network = match engine.prepare_network(record, &spec.network) {
        Ok(network) => network,
        Err(error) => {
            ready(Err((error.exit_code(), error.to_string())));
            return Err(error);
        }
    };
    config.namespaces.net = network.own_namespace;
    config.join_network = network.join.as_ref().map(|file| file.as_raw_fd());
    config.mounts.extend(network.mounts.iter().cloned());
    config.stdio = Some([
        theirs[0].as_raw_fd(),
        theirs[1].as_raw_fd(),
        theirs[2].as_raw_fd(),
    ]);
    config.command.tty = spec.tty;
    let mut log = LogWriter::open(&engine.containers.log_path(&record.id)).map_err(|source| {
        EngineError::Io {
            what: "open",
            path: engine.containers.log_path(&record.id),
            source,
        }
    })?;
    // The veth and the rules once its first process exists.
    let started = start_limited_with(&config, &spec.limits, |pid| {
        engine.plug_network(record, &network, pid)
    });
    // The container has its copies; ours must close, or the pipes never
    // reach end-of-file.
    drop(theirs);
    let running = match started {
        Ok(running) => running,
        Err(error) => {
            ready(Err((error.exit_code(), error.to_string())));
            return Err(error.into());
        }
    };
    let init = running.container.pid();
    engine.containers.update(&record.id, |r| {
        r.state.init = u32::try_from(init.as_raw()).ok().and_then(ProcessStamp::of);
        r.state.started_at = Some(now());
        r.state.cgroup = Some(running.cgroup.cgroup().clone());
        if spec.health.as_ref().and_then(HealthConfig::argv).is_some() {
            r.state.health = Some(Health::starting());
        }
    })?;
    // Detached, `attach` may connect as soon as `run -d` returns: the
    // socket listens before we say the container runs.
    let attach = match echo {
        Echo::LogOnly => listen(&socket_path(&engine.containers.dir(&record.id))).ok(),
        Echo::Terminal => None,
    };
    ready(Ok(()));
    let health = spec
        .health
        .as_ref()
        .filter(|config| config.argv().is_some())
        .map(HealthConfig::interval);
    if echo == Echo::LogOnly {
        // Becomes the pump; comes back only if that failed.
        let handed = Handed {
            outputs: &outputs,
            keys: master.as_ref().or(stdin_writer.as_ref()),
            log: &log,
            attach: attach.as_ref(),
        };
        let error = hand_over(engine, record, &running, &handed, health);
        eprintln!("cratebox: {error}; pumping the output here instead, without attach");
        drop(attach);
        let _ = std::fs::remove_file(socket_path(&engine.containers.dir(&record.id)));
    }
    // Our keys go to the container's terminal (-it in the foreground),
    // through our own terminal in raw mode.
    let input = match (&master, echo, spec.open_stdin) {
        (Some(master), Echo::Terminal, true) => Some(master),
        _ => None,
    };
    let raw = input.and_then(|_| RawMode::enter());
    let health = health.map(|every| HealthTimer::new(every, health_command(engine, &record.id)));
    let code = pump(&running.container, outputs, input, health, &mut log, echo);
    drop(raw);
    let stats = running.cgroup.finish()?;
    Ok(RunOutcome { code, stats })
}

/// What a detached container's supervisor hands its pump, by number.
#[derive(Debug, Clone, Copy)]
struct Handed<'a> {
    /// The read ends of the container's stdout and stderr (or its
    /// terminal's master).
    outputs: &'a [(OwnedFd, Stream)],
    /// Where `attach`'s keys go: the terminal's master, or the write end
    /// of the stdin pipe with `-i` and no terminal.
    keys: Option<&'a OwnedFd>,
    /// The log, open for appending.
    log: &'a LogWriter,
    /// The attach socket, listening.
    attach: Option<&'a std::os::unix::net::UnixListener>,
}

// ANCHOR: hand_over
/// Become the pump (crates/pump) for a detached container: execve keeps
/// our pid, so the container's init stays our child, and every descriptor
/// not marked close-on-exec, so the pump gets the pipes, the log and the
/// attach socket by number (see [`Handed`]). The signals stay blocked
/// across execve, so a
/// SIGCHLD that comes meanwhile waits for the pump's signalfd. Returns
/// only on failure.
fn hand_over(
    engine: &Engine,
    record: &Record,
    running: &Running,
    handed: &Handed<'_>,
    health: Option<Duration>,
) -> std::io::Error {
    let Handed {
        outputs,
        keys,
        log,
        attach,
    } = *handed;
    let attempt = || -> std::io::Result<std::convert::Infallible> {
        let pump = crate::pump::install(engine.state_root())?;
        let this = std::env::current_exe()?;
        let mut words: Vec<OsString> = vec!["cratebox-pump".into()];
        let mut pass = |option: &str, fd: BorrowedFd<'_>| -> std::io::Result<()> {
            fcntl(fd.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty()))?;
            words.extend([option.into(), fd.as_raw_fd().to_string().into()]);
            Ok(())
        };
        pass("--log", log.as_fd())?;
        if let Some(attach) = attach {
            pass("--attach", attach.as_fd())?;
        }
        let spec = record.spec.as_ref();
        match (spec.is_some_and(|s| s.tty), keys) {
            (true, Some(master)) => pass("--terminal", master.as_fd())?,
            _ => {
                for (fd, stream) in outputs {
                    pass(&format!("--{}", stream.name()), fd.as_fd())?;
                }
                if let Some(stdin) = keys {
                    // Keys nobody reads must not stall the pump.
                    fcntl(stdin.as_raw_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
                    pass("--stdin", stdin.as_fd())?;
                }
            }
        }
        // ANCHOR: hand_over_execve
        words.extend(["--init".into(), running.container.pid().to_string().into()]);
        if spec.is_some_and(|s| s.open_stdin) {
            words.push("--keys".into());
        }
        if let Some(every) = health {
            words.extend(["--health".into(), every.as_nanos().to_string().into()]);
            words.extend(["--check".into(), this.clone().into(), HEALTH.into()]);
            words.extend([record.id.clone().into(), "--".into()]);
        }
        words.extend(["--then".into(), this.into(), SUPERVISE.into()]);
        words.push(record.id.clone().into());
        let c = |text: OsString| CString::new(text.into_vec()).map_err(std::io::Error::other);
        let argv = words.into_iter().map(c).collect::<Result<Vec<_>, _>>()?;
        let env = std::env::vars_os()
            .map(|(name, value)| {
                let mut pair = name;
                pair.push("=");
                pair.push(value);
                c(pair)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let path = c(pump.into_os_string())?;
        Ok(execve(&path, &argv, &env)?)
        // ANCHOR_END: hand_over_execve
    };
    match attempt() {
        Ok(never) => match never {},
        Err(error) => error,
    }
}
// ANCHOR_END: hand_over

/// /dev/null, open.
fn null() -> Result<OwnedFd, EngineError> {
    Ok(File::open("/dev/null")
        .map_err(|source| EngineError::Io {
            what: "open",
            path: "/dev/null".into(),
            source,
        })?
        .into())
}
