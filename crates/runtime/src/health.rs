//! Chapter 6: health checks, a command the supervisor runs in the
//! container now and then, as `exec` would, to ask "does it still work?".
//!
//! A running process is not a working service: a web server can hang with
//! its process alive. The image (a Dockerfile's `HEALTHCHECK`) or `run
//! --health-cmd` names a check; every interval, the supervisor's pump (or
//! a foreground `run`) starts `cratebox __health ID`, which runs it, and
//! the container is `healthy` after a success, `unhealthy` after
//! `retries` failures in a row (failures during the start period do not
//! count), `starting` before either. `ps` shows it, `inspect` keeps the
//! last five results.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe2, read, ForkResult, Pid};
use serde::{Deserialize, Serialize};

use cratebox_sandbox::exit::exit_code;
use cratebox_sandbox::join::{exec_in, ExecStdio};
use cratebox_sandbox::ContainerCommand;

use crate::containers::Spec;
use crate::engine::Engine;
use crate::error::EngineError;

/// Where docker keeps an image's HEALTHCHECK: `config.Healthcheck`.
pub const HEALTHCHECK_FIELD: &str = "Healthcheck";

/// The defaults docker uses for what an image or `run` leaves at 0.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
/// See [`DEFAULT_INTERVAL`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// See [`DEFAULT_INTERVAL`].
pub const DEFAULT_RETRIES: u32 = 3;
/// How many results `inspect` keeps, as docker.
pub const KEPT_RESULTS: usize = 5;
/// How much of a check's output is kept.
pub const KEPT_OUTPUT: usize = 4096;

// ANCHOR: config
/// A health check as docker's image config keeps it (`config.Healthcheck`;
/// times in nanoseconds, 0 for the default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    /// `["CMD", program, args...]`, `["CMD-SHELL", line]` or `["NONE"]`.
    pub test: Vec<String>,
    /// Time between two checks.
    pub interval: u64,
    /// How long one check may take.
    pub timeout: u64,
    /// Failures in this time after the start do not count.
    pub start_period: u64,
    /// Failures in a row that make it unhealthy.
    pub retries: u32,
}
// ANCHOR_END: config

impl HealthConfig {
    /// The command line the check runs, if it is one.
    pub fn argv(&self) -> Option<Vec<String>> {
        match self.test.split_first() {
            Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => Some(rest.to_vec()),
            Some((kind, [line])) if kind == "CMD-SHELL" => {
                Some(vec!["/bin/sh".into(), "-c".into(), line.clone()])
            }
            _ => None,
        }
    }

    fn or(value: u64, default: Duration) -> Duration {
        match value {
            0 => default,
            ns => Duration::from_nanos(ns),
        }
    }

    /// The interval, defaults applied.
    pub fn interval(&self) -> Duration {
        HealthConfig::or(self.interval, DEFAULT_INTERVAL)
    }

    /// The timeout, defaults applied.
    pub fn timeout(&self) -> Duration {
        HealthConfig::or(self.timeout, DEFAULT_TIMEOUT)
    }

    /// The retries, defaults applied.
    pub fn retries(&self) -> u32 {
        match self.retries {
            0 => DEFAULT_RETRIES,
            n => n,
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CheckResult {
    /// When it started (RFC 3339).
    pub start: String,
    /// When it ended.
    pub end: String,
    /// Its exit code (0: healthy).
    pub exit_code: i32,
    /// What it printed (the first 4 KiB).
    pub output: String,
}

/// `State.Health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    /// `starting`, `healthy` or `unhealthy`.
    pub status: String,
    /// Failures in a row.
    pub failing_streak: u32,
    /// The last results, oldest first.
    pub log: Vec<CheckResult>,
}

impl Health {
    /// Before any check.
    pub fn starting() -> Health {
        Health {
            status: "starting".into(),
            failing_streak: 0,
            log: Vec::new(),
        }
    }

    // ANCHOR: record
    /// Take one result: a success makes it healthy; a failure counts,
    /// unless it is in the start period, and `retries` of them in a row
    /// make it unhealthy.
    pub fn record(&mut self, result: CheckResult, retries: u32, in_start_period: bool) {
        if result.exit_code == 0 {
            self.status = "healthy".into();
            self.failing_streak = 0;
        } else if !in_start_period {
            self.failing_streak += 1;
            if self.failing_streak >= retries {
                self.status = "unhealthy".into();
            }
        }
        self.log.push(result);
        let extra = self.log.len().saturating_sub(KEPT_RESULTS);
        self.log.drain(..extra);
    }
    // ANCHOR_END: record
}

/// A check under way: the process running it and the read end of its
/// output.
#[derive(Debug)]
pub struct Check {
    /// The process (it exits with the check's code).
    pub pid: Pid,
    /// Its stdout and stderr together.
    pub output: OwnedFd,
    /// When it started.
    pub started: String,
    /// What it printed so far.
    pub printed: Vec<u8>,
}

// ANCHOR: start_check
/// Start a check in the container whose init is `init`: a child of ours
/// that does what `exec` does and exits with the check's code. (Not in
/// this process: joining the container's namespaces is for good.)
pub fn start_check(init: Pid, spec: &Spec, argv: Vec<String>) -> std::io::Result<Check> {
    let (output, writer) = pipe2(OFlag::O_CLOEXEC)?;
    let mut command = ContainerCommand::new(argv);
    for pair in &spec.env {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        command.set_env(name, value);
    }
    command.cwd = spec.working_dir.clone();
    command.user = spec.user.clone();
    let procs = u32::try_from(init.as_raw())
        .ok()
        .and_then(|pid| crate::exec::cgroup_procs(pid).ok())
        .unwrap_or_default();
    let null = File::open("/dev/null")?;
    let started = crate::containers::now();
    // SAFETY: the supervisor is single-threaded, so the child may allocate.
    match unsafe { fork() }? {
        ForkResult::Child => {
            let stdio = ExecStdio {
                fds: Some([null.as_raw_fd(), writer.as_raw_fd(), writer.as_raw_fd()]),
                terminal: false,
            };
            let code = match exec_in(init, &command, procs, stdio, false, None) {
                Ok(code) => code,
                Err(error) => {
                    let message = format!("{error}\n");
                    let _ = nix::unistd::write(&writer, message.as_bytes());
                    error.exit_code()
                }
            };
            // SAFETY: leave without running the supervisor's exit handlers.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => Ok(Check {
            pid: child,
            output,
            started,
            printed: Vec::new(),
        }),
    }
}
// ANCHOR_END: start_check

// ANCHOR: check_once
/// One health check of container `id`, its result recorded: what
/// `cratebox __health ID` does whenever the pump's timer says a check is
/// due (podman runs `podman healthcheck run` from a systemd timer).
pub fn check_once(engine: &Engine, id: &str) -> Result<(), EngineError> {
    let record = engine.containers.get(id)?;
    let (Some(spec), Some(init)) = (&record.spec, &record.state.init) else {
        return Ok(());
    };
    let (Some(config), true) = (&spec.health, record.is_running()) else {
        return Ok(());
    };
    let Some(argv) = config.argv() else {
        return Ok(());
    };
    // ANCHOR: check_once_run
    let pid = Pid::from_raw(i32::try_from(init.pid).unwrap_or(0));
    let mut check = start_check(pid, spec, argv).map_err(|source| EngineError::Io {
        what: "start",
        path: "a health check".into(),
        source,
    })?;
    let deadline = Instant::now() + config.timeout();
    let timed_out = !check.read_until(deadline);
    if timed_out {
        let _ = kill(check.pid, Signal::SIGKILL);
    }
    let code = loop {
        match waitpid(check.pid, None) {
            Err(Errno::EINTR) => continue,
            Ok(status) => break exit_code(status).unwrap_or(-1),
            Err(_) => break -1,
        }
    };
    let mut result = check.result(code);
    if timed_out {
        result.exit_code = -1;
        result.output = format!(
            "Health check exceeded timeout ({}s)",
            config.timeout().as_secs_f64()
        );
    }
    // ANCHOR_END: check_once_run
    let since_start = record
        .state
        .started_at
        .as_deref()
        .and_then(|at| humantime::parse_rfc3339(at).ok())
        .and_then(|at| at.elapsed().ok())
        .unwrap_or_default();
    let in_start_period = since_start < Duration::from_nanos(config.start_period);
    let retries = config.retries();
    engine.containers.update(id, |r| {
        // Only for the run it checked: not after a restart.
        if r.state.init == record.state.init {
            r.state.health.get_or_insert_with(Health::starting).record(
                result.clone(),
                retries,
                in_start_period,
            );
        }
    })?;
    Ok(())
}
// ANCHOR_END: check_once

impl Check {
    /// Keep what it prints until its output ends (true) or `deadline`
    /// passes (false).
    pub fn read_until(&mut self, deadline: Instant) -> bool {
        let mut buffer = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
            let mut fds = [PollFd::new(self.output.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, timeout) {
                Ok(0) => return false,
                Err(Errno::EINTR) => continue,
                Err(_) => return true,
                Ok(_) => {}
            }
            match read(self.output.as_raw_fd(), &mut buffer) {
                Ok(0) | Err(_) => return true,
                Ok(n) if self.printed.len() < KEPT_OUTPUT => {
                    self.printed.extend_from_slice(&buffer[..n])
                }
                Ok(_) => {}
            }
        }
    }

    /// Its result, given how it ended.
    pub fn result(self, exit_code: i32) -> CheckResult {
        let mut output = self.printed;
        output.truncate(KEPT_OUTPUT);
        CheckResult {
            start: self.started,
            end: crate::containers::now(),
            exit_code,
            output: String::from_utf8_lossy(&output).into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(code: i32) -> CheckResult {
        CheckResult {
            start: "s".into(),
            end: "e".into(),
            exit_code: code,
            output: String::new(),
        }
    }

    #[test]
    fn healthy_after_a_success_unhealthy_after_retries_failures() {
        let mut health = Health::starting();
        health.record(result(1), 2, true);
        assert_eq!(
            (health.status.as_str(), health.failing_streak),
            ("starting", 0)
        );
        health.record(result(1), 2, false);
        assert_eq!(
            (health.status.as_str(), health.failing_streak),
            ("starting", 1)
        );
        health.record(result(1), 2, false);
        assert_eq!(health.status, "unhealthy");
        health.record(result(0), 2, false);
        assert_eq!(
            (health.status.as_str(), health.failing_streak),
            ("healthy", 0)
        );
        for _ in 0..10 {
            health.record(result(0), 2, false);
        }
        assert_eq!(health.log.len(), KEPT_RESULTS);
    }

    #[test]
    fn checks_as_docker_writes_them() {
        let shell = HealthConfig {
            test: vec!["CMD-SHELL".into(), "test -e /ok".into()],
            ..HealthConfig::default()
        };
        assert_eq!(
            shell.argv(),
            Some(vec!["/bin/sh".into(), "-c".into(), "test -e /ok".into()])
        );
        assert_eq!(shell.interval(), DEFAULT_INTERVAL);
        assert_eq!(shell.retries(), 3);
        let exec = HealthConfig {
            test: vec!["CMD".into(), "true".into()],
            interval: 200_000_000,
            ..HealthConfig::default()
        };
        assert_eq!(exec.argv(), Some(vec!["true".into()]));
        assert_eq!(exec.interval(), Duration::from_millis(200));
        let none = HealthConfig {
            test: vec!["NONE".into()],
            ..HealthConfig::default()
        };
        assert_eq!(none.argv(), None);
        let json = serde_json::to_string(&exec).expect("serializes");
        assert_eq!(
            json,
            r#"{"Test":["CMD","true"],"Interval":200000000,"Timeout":0,"StartPeriod":0,"Retries":0}"#
        );
    }
}
