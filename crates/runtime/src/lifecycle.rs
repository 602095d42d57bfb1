//! Chapter 6: what happens to a container between `run` and `rm`.
//!
//! ```text
//!            run / create            start
//!   (none) ───────────────► Created ───────► Running ──► Exited
//!                                              ▲   stop, kill,  │
//!                                              │   it ends      │
//!                                              └──── start ─────┘
//!                        rm (-f when Running) removes from any state
//! ```
//!
//! Every change of state goes through the container's lock
//! ([`crate::containers::Containers::update`]), so that a `stop` and an
//! `rm -f` at once, or the supervisor and a `kill`, never write over each
//! other. The processes are named by [`ProcessStamp`]s, so that a record
//! left from before a reboot never signals a stranger that reuses a pid.

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::str::FromStr;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use cratebox_cgroups::Hierarchies;
use cratebox_sandbox::process::ProcessStamp;

use crate::containers::{Record, Spec, Status};
use crate::engine::{command_for, Engine};
use crate::error::EngineError;
use crate::health::{HealthConfig, HEALTHCHECK_FIELD};
use crate::logs;
use crate::volumes::{is_empty_dir, MountKind, MountSpec, VolumeError};
use cratebox_image::new_image::NewImage;
use cratebox_network::ports::parse_exposed;
use cratebox_sandbox::mounts::{ExtraKind, ExtraMount};

/// What `run` and `create` make a container from.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    /// `--name`.
    pub name: Option<String>,
    /// The command after the image name (empty: the image's Cmd).
    pub command: Vec<String>,
    /// `--entrypoint`: replaces the image's Entrypoint (empty string: none).
    pub entrypoint: Option<String>,
    /// `-e` and `--env-file`, `NAME=value`, applied over the image's Env.
    pub env: Vec<String>,
    /// `-w`.
    pub working_dir: Option<String>,
    /// `-u`.
    pub user: Option<String>,
    /// `--hostname` (None: the short id, as docker does).
    pub hostname: Option<String>,
    /// `--health-*` and `--no-healthcheck`, over the image's HEALTHCHECK.
    pub health: HealthFlags,
    /// `-P`: publish every port the image EXPOSEs, each on a free port.
    pub publish_all: bool,
    /// The rest, as kept in the record.
    pub spec: Spec,
}

/// `run`'s health flags; each given one replaces the image's value.
#[derive(Debug, Clone, Default)]
pub struct HealthFlags {
    /// `--health-cmd LINE` (run through the shell).
    pub cmd: Option<String>,
    /// `--health-interval`.
    pub interval: Option<std::time::Duration>,
    /// `--health-timeout`.
    pub timeout: Option<std::time::Duration>,
    /// `--health-start-period`.
    pub start_period: Option<std::time::Duration>,
    /// `--health-retries`.
    pub retries: Option<u32>,
    /// `--no-healthcheck`: none, whatever the image says.
    pub none: bool,
}

impl HealthFlags {
    // ANCHOR: health_merge
    /// The check to run: the image's, with the flags on top; none for
    /// `--no-healthcheck`, an image's `HEALTHCHECK NONE`, or no test at all.
    pub fn apply(&self, image: Option<HealthConfig>) -> Option<HealthConfig> {
        if self.none {
            return None;
        }
        let mut config = image.unwrap_or_default();
        let ns = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        if let Some(cmd) = &self.cmd {
            config.test = vec!["CMD-SHELL".into(), cmd.clone()];
        }
        if let Some(interval) = self.interval {
            config.interval = ns(interval);
        }
        if let Some(timeout) = self.timeout {
            config.timeout = ns(timeout);
        }
        if let Some(start_period) = self.start_period {
            config.start_period = ns(start_period);
        }
        if let Some(retries) = self.retries {
            config.retries = retries;
        }
        config.argv().map(|_| config)
    }
    // ANCHOR_END: health_merge
}

impl Engine {
    // ANCHOR: create_container
    /// `create`: a container from `image_name`, with everything it needs
    /// to run kept in its record: the command after the image's
    /// Entrypoint and Cmd, its Env, WorkingDir and User with the flags on
    /// top, as docker merges them.
    pub fn create_container(
        &self,
        image_name: &str,
        request: &CreateRequest,
    ) -> Result<Record, EngineError> {
        let image = self.image_or_pull(image_name)?;
        // Unpack now: `run -d` should fail here, not in the supervisor.
        self.layers.ensure(&self.store, &image)?;
        let config = image.config.config().clone().unwrap_or_default();
        let command = match &request.entrypoint {
            None => command_for(&image, &request.command).0,
            Some(entrypoint) => {
                let mut command: Vec<String> = match entrypoint.as_str() {
                    "" => Vec::new(),
                    program => vec![program.to_string()],
                };
                command.extend(request.command.iter().cloned());
                if command.is_empty() {
                    command = config.cmd().clone().unwrap_or_default();
                }
                command
            }
        };
        let mut spec = request.spec.clone();
        // Join the memory, cpu and pids controllers even without limits
        // in them, so that `stats` has something to read.
        spec.limits.collect_stats = true;
        spec.env = merge_env(config.env().as_deref().unwrap_or_default(), &request.env);
        spec.working_dir = request
            .working_dir
            .clone()
            .or_else(|| config.working_dir().clone());
        spec.user = request.user.clone().or_else(|| config.user().clone());
        spec.stop_signal = config.stop_signal().clone();
        spec.mounts = self.prepare_mounts(&request.spec.mounts, config.volumes().as_deref())?;
        // docker keeps HEALTHCHECK in the config as `Healthcheck`, a field
        // the OCI spec does not have: read it from the config as stored.
        let stored = NewImage::of(&self.store, &image)?;
        let image_health = stored
            .get(HEALTHCHECK_FIELD)
            .and_then(|value| serde_json::from_value(value.clone()).ok());
        spec.health = request.health.apply(image_health);
        if request.publish_all {
            let exposed = config.exposed_ports().clone().unwrap_or_default();
            for port in exposed.iter().filter_map(|p| parse_exposed(p)) {
                let already = spec.network.publish.iter().any(|p| {
                    p.container_port == port.container_port && p.protocol == port.protocol
                });
                if !already {
                    spec.network.publish.push(port);
                }
            }
        }
        let record = self.containers.create_with(
            request.name.as_deref(),
            &image.reference.to_string(),
            image.manifest_digest.as_str(),
            command,
            Some(spec),
        )?;
        let hostname = request
            .hostname
            .clone()
            .unwrap_or_else(|| record.short_id().to_string());
        let record = self.containers.update(&record.id, |r| {
            if let Some(spec) = r.spec.as_mut() {
                spec.env.retain(|kv| !kv.starts_with("HOSTNAME="));
                spec.env.push(format!("HOSTNAME={hostname}"));
                spec.hostname = hostname.clone();
            }
        })?;
        self.store
            .keep(crate::engine::CONTAINERS_OWNER, &image.manifest_digest)?;
        Ok(record)
    }
    // ANCHOR_END: create_container

    // ANCHOR: prepare_mounts
    /// Check and make what the mounts need before the container exists: a
    /// bind's source (made for `-v`, required for `--mount`), each named
    /// volume; and an anonymous volume for each of the image's VOLUMEs
    /// that no flag mounts something on.
    fn prepare_mounts(
        &self,
        given: &[MountSpec],
        image_volumes: Option<&[String]>,
    ) -> Result<Vec<MountSpec>, EngineError> {
        let mut mounts = given.to_vec();
        for path in image_volumes.unwrap_or_default() {
            let target = format!("/{}", path.trim_matches('/'));
            if !mounts
                .iter()
                .any(|m| m.target.trim_end_matches('/') == target)
            {
                mounts.push(MountSpec {
                    kind: MountKind::Volume {
                        name: crate::containers::random_id()?,
                        anonymous: true,
                    },
                    target,
                    readonly: false,
                });
            }
        }
        for mount in &mounts {
            match &mount.kind {
                MountKind::Bind { source, create } => {
                    if !source.exists() {
                        if !create {
                            return Err(VolumeError::MissingSource(source.clone()).into());
                        }
                        std::fs::create_dir_all(source).map_err(|e| EngineError::Io {
                            what: "create",
                            path: source.clone(),
                            source: e,
                        })?;
                    }
                }
                MountKind::Volume { name, anonymous } => {
                    self.volumes.create(name, *anonymous)?;
                }
                MountKind::Tmpfs { .. } => {}
            }
        }
        Ok(mounts)
    }
    // ANCHOR_END: prepare_mounts

    /// The sandbox's view of a container's mounts, for one run: volumes
    /// become bind mounts of their data, to be filled first when empty.
    pub fn extra_mounts(&self, mounts: &[MountSpec]) -> Vec<ExtraMount> {
        mounts
            .iter()
            .map(|mount| {
                let kind = match &mount.kind {
                    MountKind::Bind { source, .. } => ExtraKind::Bind {
                        source: source.clone(),
                        file: !source.is_dir(),
                        fill: false,
                    },
                    MountKind::Volume { name, .. } => {
                        let data = self.volumes.data(name);
                        ExtraKind::Bind {
                            fill: is_empty_dir(&data),
                            source: data,
                            file: false,
                        }
                    }
                    MountKind::Tmpfs { options } => ExtraKind::Tmpfs {
                        options: match options.as_str() {
                            "" => "mode=755".to_string(),
                            given => given.to_string(),
                        },
                    },
                };
                ExtraMount {
                    target: mount.target.clone(),
                    kind,
                    readonly: mount.readonly,
                }
            })
            .collect()
    }

    /// The containers that mount volume `name`.
    pub fn volume_users(&self, name: &str) -> Result<Vec<Record>, EngineError> {
        Ok(self
            .containers
            .list()?
            .into_iter()
            .filter(|record| {
                record.spec.as_ref().is_some_and(|spec| {
                    spec.mounts.iter().any(
                        |m| matches!(&m.kind, MountKind::Volume { name: used, .. } if used == name),
                    )
                })
            })
            .collect())
    }

    /// `volume rm`: refused while a container (running or not) uses it.
    pub fn remove_volume(&self, name: &str) -> Result<(), EngineError> {
        if let Some(user) = self.volume_users(name)?.first() {
            return Err(VolumeError::InUse {
                volume: name.to_string(),
                container: user.name.clone(),
            }
            .into());
        }
        Ok(self.volumes.remove(name)?)
    }

    /// Before a new start: forget that the last run was stopped.
    pub fn prepare_start(&self, record: &Record) -> Result<Record, EngineError> {
        if record.is_running() {
            return Ok(record.clone());
        }
        if record.spec.is_none() {
            return Err(EngineError::NotStartable {
                container: record.name.clone(),
            });
        }
        Ok(self.containers.update(&record.id, |r| {
            r.state.stopping = false;
            r.state.error = None;
        })?)
    }

    // ANCHOR: stop
    /// `stop -t SECS`: the stop signal (the image's STOPSIGNAL, else
    /// SIGTERM) to the container's init, which passes it to the command;
    /// SIGKILL when it has not ended after `timeout`. Returns once the
    /// supervisor has recorded the end. A container that does not run is
    /// left as it is, as docker does.
    pub fn stop(&self, record: &Record, timeout: Duration) -> Result<(), EngineError> {
        let record = self.mark_stopping(record)?;
        let Some(supervisor) = record.state.supervisor.clone() else {
            return Ok(());
        };
        let signal = record
            .spec
            .as_ref()
            .and_then(|spec| spec.stop_signal.as_deref())
            .and_then(|name| parse_signal(name).ok())
            .unwrap_or(Signal::SIGTERM);
        if let Some(init) = &record.state.init {
            signal_stamped(init, signal);
            if !wait_for_exit(init, Some(timeout)) {
                signal_stamped(init, Signal::SIGKILL);
            }
        }
        wait_for_exit(&supervisor, None);
        Ok(())
    }
    // ANCHOR_END: stop

    /// `kill -s SIGNAL`: one signal to the container's init, which passes
    /// it on to the command (SIGKILL ends init, and with it every process
    /// of the container). A killed container is not restarted.
    pub fn kill(&self, record: &Record, signal: Signal) -> Result<(), EngineError> {
        let not_running = || EngineError::NotRunning {
            container: record.name.clone(),
        };
        if !record.is_running() {
            return Err(not_running());
        }
        let record = self.mark_stopping(record)?;
        let init = record.state.init.as_ref().ok_or_else(not_running)?;
        signal_stamped(init, signal);
        Ok(())
    }

    /// `wait`: block until the container's supervisor is done with it
    /// (after its restarts), then its exit code.
    pub fn wait(&self, record: &Record) -> Result<i32, EngineError> {
        if let Some(supervisor) = &record.state.supervisor {
            wait_for_exit(supervisor, None);
        }
        let record = self.containers.get(&record.id)?;
        Ok(match record.live_status() {
            Status::Exited { code } => code,
            _ => -1,
        })
    }

    // ANCHOR: remove
    /// `rm [-f]`: a running container only with `force` (SIGKILL first).
    /// Then its record, writable layer and log; the cgroup a crashed
    /// supervisor left; and the hold on its image.
    pub fn remove(
        &self,
        record: &Record,
        force: bool,
        anonymous_volumes: bool,
    ) -> Result<(), EngineError> {
        if record.is_running() {
            if !force {
                return Err(EngineError::StillRunning {
                    container: record.name.clone(),
                });
            }
            let record = self.mark_stopping(record)?;
            if let Some(init) = &record.state.init {
                signal_stamped(init, Signal::SIGKILL);
            }
            if let Some(supervisor) = &record.state.supervisor {
                wait_for_exit(supervisor, None);
            }
        }
        // A `--rm` supervisor may have removed it meanwhile.
        let record = match self.containers.get(&record.id) {
            Ok(record) => record,
            Err(crate::containers::ContainerStoreError::NotFound(_)) => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        let _ = logs::remove(&self.containers.log_path(&record.id));
        // Chapter 7: its address goes back to its network.
        if record
            .spec
            .as_ref()
            .is_some_and(|s| matches!(s.network.mode, crate::net::NetworkMode::Bridge(_)))
        {
            self.network_released(&record.id)?;
        }
        self.remove_container(&record)?;
        if anonymous_volumes {
            for mount in record.spec.iter().flat_map(|spec| &spec.mounts) {
                if let MountKind::Volume {
                    name,
                    anonymous: true,
                } = &mount.kind
                {
                    if self.volume_users(name)?.is_empty() {
                        self.volumes.remove(name)?;
                    }
                }
            }
        }
        // A supervisor killed by SIGKILL could not remove the cgroup.
        cratebox_cgroups::stale::remove_stale(&Hierarchies::detect());
        Ok(())
    }
    // ANCHOR_END: remove

    /// Note that the container is being stopped (so no restart), under
    /// its lock; the record as it is now.
    fn mark_stopping(&self, record: &Record) -> Result<Record, EngineError> {
        Ok(self
            .containers
            .update(&record.id, |r| r.state.stopping = true)?)
    }
}

/// The image's Env with `given` on top: a name given replaces the
/// image's; a bare `NAME` (no `=`) takes the value from our own
/// environment, or is left out when we have none, as docker does.
pub fn merge_env(image: &[String], given: &[String]) -> Vec<String> {
    let mut env: Vec<String> = image.to_vec();
    for item in given {
        let pair = match item.split_once('=') {
            Some(_) => item.clone(),
            None => match std::env::var(item) {
                Ok(value) => format!("{item}={value}"),
                Err(_) => continue,
            },
        };
        let name = pair.split('=').next().unwrap_or_default().to_string();
        env.retain(|kv| kv.split('=').next() != Some(name.as_str()));
        env.push(pair);
    }
    env
}

/// A signal as docker takes it: `KILL`, `SIGKILL`, `kill` or `9`.
pub fn parse_signal(text: &str) -> Result<Signal, EngineError> {
    let bad = || EngineError::BadSignal(text.to_string());
    if let Ok(number) = text.parse::<i32>() {
        return Signal::try_from(number).map_err(|_| bad());
    }
    let upper = text.to_ascii_uppercase();
    let name = match upper.starts_with("SIG") {
        true => upper,
        false => format!("SIG{upper}"),
    };
    Signal::from_str(&name).map_err(|_| bad())
}

/// Send `signal` to a process if it is still the one stamped.
fn signal_stamped(stamp: &ProcessStamp, signal: Signal) {
    if stamp.is_alive() {
        if let Ok(pid) = i32::try_from(stamp.pid) {
            let _ = kill(Pid::from_raw(pid), signal);
        }
    }
}

// ANCHOR: wait_for_exit
/// Wait until the stamped process has ended, at most `timeout` (None: as
/// long as it takes). True when it ended.
///
/// Any process can wait for any other with a pidfd (Linux 5.3): the file
/// descriptor becomes readable when the process ends. The stamp is
/// checked after opening it, so the pidfd surely names that process and
/// not a later one with the same number.
pub fn wait_for_exit(stamp: &ProcessStamp, timeout: Option<Duration>) -> bool {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, stamp.pid as libc::pid_t, 0) };
    if fd < 0 {
        // No such process (or a kernel without pidfds): poll the stamp.
        return wait_by_polling(stamp, timeout);
    }
    // SAFETY: the syscall returned a new descriptor that nothing else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    if !stamp.is_alive() {
        return true;
    }
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let left = match deadline {
            None => PollTimeout::NONE,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, left) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return wait_by_polling(stamp, timeout),
        }
    }
}
// ANCHOR_END: wait_for_exit

fn wait_by_polling(stamp: &ProcessStamp, timeout: Option<Duration>) -> bool {
    let deadline = timeout.map(|t| Instant::now() + t);
    while stamp.is_alive() {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_go_over_the_image_env() {
        std::env::set_var("CRATEBOX_TEST_FROM_HOST", "yes");
        let image = ["PATH=/bin".to_string(), "MODE=image".to_string()];
        let given = [
            "MODE=flag".to_string(),
            "CRATEBOX_TEST_FROM_HOST".to_string(),
            "CRATEBOX_TEST_UNSET_ANYWHERE".to_string(),
            "EMPTY=".to_string(),
        ];
        insta::assert_debug_snapshot!(merge_env(&image, &given), @r#"
        [
            "PATH=/bin",
            "MODE=flag",
            "CRATEBOX_TEST_FROM_HOST=yes",
            "EMPTY=",
        ]
        "#);
    }

    #[test]
    fn signals_by_name_or_number() {
        for text in ["KILL", "SIGKILL", "kill", "9"] {
            assert_eq!(parse_signal(text).ok(), Some(Signal::SIGKILL), "{text}");
        }
        assert_eq!(parse_signal("hup").ok(), Some(Signal::SIGHUP));
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("99").is_err());
    }
}
