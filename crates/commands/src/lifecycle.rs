//! `ps`, `logs`, `stop`, `kill`, `wait`, `rm`, `rename`, `inspect`,
//! `container prune`: containers that live on (chapter 6).

use std::io::Write;
use std::time::{Duration, SystemTime};

use anyhow::bail;
use clap::{Args, Subcommand};
use cratebox_runtime::containers::{valid_name, Record, Status};
use cratebox_runtime::engine::Engine;
use cratebox_runtime::exec::{processes, usage, Usage};
use cratebox_runtime::lifecycle::parse_signal;
use cratebox_runtime::logs::{Entry, LogReader};

use crate::table::{self, Column};

/// `ps [-a] [-q] [--filter KEY=VALUE]...`
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers, not only running ones
    #[arg(short, long)]
    pub all: bool,
    /// Only the ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Keep containers that match: status=created|running|exited, name=TEXT, id=PREFIX
    #[arg(short, long, value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Show the full ids and commands
    #[arg(long)]
    pub no_trunc: bool,
}

/// `logs [-f] [--tail N] [-t] [--since WHEN] CONTAINER`
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Keep printing new output until the container ends
    #[arg(short, long)]
    pub follow: bool,
    /// Only the last N lines (or "all")
    #[arg(short = 'n', long, value_name = "N", default_value = "all")]
    pub tail: String,
    /// Show each line's time
    #[arg(short, long)]
    pub timestamps: bool,
    /// Only lines since a time (RFC 3339) or for a while (e.g. 10m, 1h30m)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Name or id
    pub container: String,
}

/// `stop [-t SECS] CONTAINER...`
#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait after the stop signal before SIGKILL
    #[arg(short = 't', long = "time", default_value_t = 10)]
    pub time: u64,
    /// Names or ids
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// `kill [-s SIGNAL] CONTAINER...`
#[derive(Debug, Args)]
pub struct KillArgs {
    /// The signal: a name (KILL, SIGTERM, hup) or a number
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    /// Names or ids
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// `rm [-f] [-v] CONTAINER...`
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Kill it first if it runs
    #[arg(short, long)]
    pub force: bool,
    /// Remove its anonymous volumes too
    #[arg(short, long)]
    pub volumes: bool,
    /// Names or ids
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// A subcommand that takes containers.
#[derive(Debug, Args)]
pub struct ContainersArg {
    /// Names or ids
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// `rename CONTAINER NEW_NAME`
#[derive(Debug, Args)]
pub struct RenameArgs {
    /// Name or id
    pub container: String,
    /// The new name
    pub new_name: String,
}

/// `inspect NAME...`: containers, else images.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Container or image names or ids
    #[arg(required = true)]
    pub names: Vec<String>,
}

/// `stats [--no-stream] [CONTAINER...]`
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print once and end (the only way cratebox prints them)
    #[arg(long)]
    pub no_stream: bool,
    /// Names or ids [default: every running container]
    pub containers: Vec<String>,
}

/// `container SUBCOMMAND`.
#[derive(Debug, Subcommand)]
pub enum ContainerSubcommand {
    /// Remove every container that is not running
    Prune,
}

/// `volume SUBCOMMAND`.
#[derive(Debug, Subcommand)]
pub enum VolumeSubcommand {
    /// Make a volume (a random name when none is given)
    Create {
        /// Its name
        name: Option<String>,
    },
    /// List volumes
    Ls {
        /// Only the names
        #[arg(short, long)]
        quiet: bool,
    },
    /// Show volumes as JSON
    Inspect {
        /// Names
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove volumes no container uses
    Rm {
        /// Names
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove the anonymous volumes no container uses (-a: named ones too)
    Prune {
        /// Named volumes too
        #[arg(short, long)]
        all: bool,
    },
}

// ANCHOR: volume
/// `volume ...`.
pub fn volume(engine: &Engine, command: VolumeSubcommand) -> anyhow::Result<i32> {
    match command {
        VolumeSubcommand::Create { name } => {
            let name = match name {
                Some(name) if valid_name(&name) => name,
                Some(name) => bail!("invalid volume name {name:?}: use letters, digits and _ . -"),
                None => cratebox_runtime::containers::random_id()?,
            };
            println!("{}", engine.volumes.create(&name, false)?.name);
        }
        VolumeSubcommand::Ls { quiet } => {
            if !quiet {
                println!("DRIVER    VOLUME NAME");
            }
            for volume in engine.volumes.list()? {
                match quiet {
                    true => println!("{}", volume.name),
                    false => println!("local     {}", volume.name),
                }
            }
        }
        VolumeSubcommand::Inspect { names } => {
            let mut shown = Vec::new();
            for name in names {
                let volume = engine.volumes.get(&name)?;
                shown.push(serde_json::json!({
                    "CreatedAt": volume.created,
                    "Driver": "local",
                    "Labels": if volume.anonymous {
                        serde_json::json!({"com.docker.volume.anonymous": ""})
                    } else {
                        serde_json::json!({})
                    },
                    "Mountpoint": engine.volumes.data(&volume.name),
                    "Name": volume.name,
                    "Scope": "local",
                }));
            }
            println!("{}", serde_json::to_string_pretty(&shown)?);
        }
        VolumeSubcommand::Rm { names } => {
            for name in names {
                engine.remove_volume(&name)?;
                println!("{name}");
            }
        }
        VolumeSubcommand::Prune { all } => {
            println!("Deleted Volumes:");
            for volume in engine.volumes.list()? {
                if (all || volume.anonymous) && engine.volume_users(&volume.name)?.is_empty() {
                    engine.volumes.remove(&volume.name)?;
                    println!("{}", volume.name);
                }
            }
        }
    }
    Ok(0)
}
// ANCHOR_END: volume

/// Whether a container passes every `--filter`.
fn passes(record: &Record, filters: &[(String, String)]) -> bool {
    filters.iter().all(|(key, value)| match key.as_str() {
        "status" => state_name(record) == value,
        "name" => record.name.contains(value.as_str()),
        "id" => record.id.starts_with(value.as_str()),
        _ => false,
    })
}

/// docker's one-word state: created, running, restarting or exited.
pub fn state_name(record: &Record) -> &'static str {
    match record.live_status() {
        Status::Created => "created",
        Status::Running { .. }
            if record.state.init.is_none() && record.state.started_at.is_some() =>
        {
            "restarting"
        }
        Status::Running { .. } => "running",
        Status::Exited { .. } => "exited",
    }
}

// ANCHOR: ps
/// `ps`: running containers (all with `-a`), newest first as in docker.
pub fn ps(engine: &Engine, args: PsArgs) -> anyhow::Result<i32> {
    let mut filters = Vec::new();
    for filter in &args.filter {
        let Some((key, value)) = filter.split_once('=') else {
            bail!("invalid filter {filter:?}: use KEY=VALUE, e.g. status=exited");
        };
        if !["status", "name", "id"].contains(&key) {
            bail!("unknown filter {key:?}: use status, name or id");
        }
        filters.push((key.to_string(), value.to_string()));
    }
    let now = SystemTime::now();
    let mut records = engine.containers.list()?;
    records.reverse();
    let shown = records.iter().filter(|record| {
        // A status filter may ask for stopped ones without -a, as in docker.
        (args.all || record.is_running() || args.filter.iter().any(|f| f.starts_with("status=")))
            && passes(record, &filters)
    });
    let shown: Vec<Record> = shown.cloned().collect();
    let mut out = std::io::stdout().lock();
    if args.quiet {
        for record in &shown {
            writeln!(out, "{}", record.short_id())?;
        }
    } else {
        for line in crate::containers::ps_table(&shown, now, args.no_trunc) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(0)
}
// ANCHOR_END: ps

// ANCHOR: logs
/// `logs`: what the container printed, from its json-file log; with
/// `-f`, new lines as they come, until the container ends.
pub fn logs(engine: &Engine, args: LogsArgs) -> anyhow::Result<i32> {
    let record = engine.containers.find(&args.container)?;
    let tail: Option<usize> = match args.tail.as_str() {
        "all" => None,
        n => Some(
            n.parse()
                .map_err(|_| anyhow::anyhow!("invalid --tail {n:?}: give a number or all"))?,
        ),
    };
    let since = match &args.since {
        None => None,
        Some(when) => Some(parse_since(when, SystemTime::now())?),
    };
    let mut reader = LogReader::open(&engine.containers.log_path(&record.id))?;
    let mut entries = reader.read_new()?;
    if let Some(since) = since {
        entries
            .retain(|entry| humantime::parse_rfc3339(&entry.time).is_ok_and(|time| time >= since));
    }
    if let Some(tail) = tail {
        let skip = entries.len().saturating_sub(tail);
        entries.drain(..skip);
    }
    print_entries(&entries, args.timestamps)?;
    if !args.follow {
        return Ok(0);
    }
    loop {
        // Whether it still runs is asked *before* reading, so the lines it
        // wrote just before it ended are not lost.
        let running = engine
            .containers
            .get(&record.id)
            .map(|r| r.is_running())
            .unwrap_or(false);
        let entries = reader.read_new()?;
        print_entries(&entries, args.timestamps)?;
        if !running {
            return Ok(0);
        }
        if entries.is_empty() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
// ANCHOR_END: logs

/// `--since`: an RFC 3339 time, or a duration back from `now`.
pub fn parse_since(when: &str, now: SystemTime) -> anyhow::Result<SystemTime> {
    if let Ok(time) = humantime::parse_rfc3339_weak(when) {
        return Ok(time);
    }
    if let Ok(ago) = humantime::parse_duration(when) {
        return Ok(now - ago);
    }
    bail!("invalid --since {when:?}: give a time (2026-11-30T10:00:00Z) or a duration (10m, 1h30m)")
}

fn print_entries(entries: &[Entry], timestamps: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    for entry in entries {
        let target: &mut dyn Write = match entry.stream.as_str() {
            "stderr" => &mut err,
            _ => &mut out,
        };
        if timestamps {
            write!(target, "{} ", entry.time)?;
        }
        target.write_all(entry.log.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// `stop`: each container, as given.
pub fn stop(engine: &Engine, args: StopArgs) -> anyhow::Result<i32> {
    for key in &args.containers {
        let record = engine.containers.find(key)?;
        engine.stop(&record, Duration::from_secs(args.time))?;
        println!("{key}");
    }
    Ok(0)
}

/// `kill`: each container, as given.
pub fn kill(engine: &Engine, args: KillArgs) -> anyhow::Result<i32> {
    let signal = parse_signal(&args.signal)?;
    for key in &args.containers {
        let record = engine.containers.find(key)?;
        engine.kill(&record, signal)?;
        println!("{key}");
    }
    Ok(0)
}

/// `wait`: each container's exit code once it has ended.
pub fn wait(engine: &Engine, args: ContainersArg) -> anyhow::Result<i32> {
    for key in &args.containers {
        let record = engine.containers.find(key)?;
        println!("{}", engine.wait(&record)?);
    }
    Ok(0)
}

/// `rm`: each container, as given.
pub fn rm(engine: &Engine, args: RmArgs) -> anyhow::Result<i32> {
    for key in &args.containers {
        let record = engine.containers.find(key)?;
        engine.remove(&record, args.force, args.volumes)?;
        println!("{key}");
    }
    Ok(0)
}

/// `container prune`: every container that is not running.
pub fn prune(engine: &Engine) -> anyhow::Result<i32> {
    println!("Deleted Containers:");
    for record in engine.containers.list()? {
        if !record.is_running() {
            engine.remove(&record, false, false)?;
            println!("{}", record.id);
        }
    }
    Ok(0)
}

/// `rename`: a new name, unique as ever.
pub fn rename(engine: &Engine, args: RenameArgs) -> anyhow::Result<i32> {
    let record = engine.containers.find(&args.container)?;
    engine.containers.rename(&record, &args.new_name)?;
    Ok(0)
}

/// `inspect`: containers as docker shows them; a name that is no
/// container is looked up as an image.
pub fn inspect(engine: &Engine, args: InspectArgs) -> anyhow::Result<i32> {
    let mut shown = Vec::new();
    for name in &args.names {
        match engine.containers.find(name) {
            Ok(record) => shown.push(crate::inspect::container_json(engine, &record)),
            Err(_) => shown.push(crate::images::image_json(engine, name)?),
        }
    }
    println!("{}", serde_json::to_string_pretty(&shown)?);
    Ok(0)
}

// ANCHOR: top
/// `top CONTAINER`: its processes, as the host numbers them.
pub fn top(engine: &Engine, container: &str) -> anyhow::Result<i32> {
    let record = engine.containers.find(container)?;
    let init = match (&record.state.init, record.is_running()) {
        (Some(init), true) => init.pid,
        _ => bail!("container {} is not running: start it first", record.name),
    };
    let rows: Vec<Vec<String>> = processes(init)
        .into_iter()
        .map(|p| {
            vec![
                p.uid.to_string(),
                p.pid.to_string(),
                p.ppid.to_string(),
                p.args,
            ]
        })
        .collect();
    for line in table::fitted(&TOP_COLUMNS, &rows) {
        println!("{line}");
    }
    Ok(0)
}
// ANCHOR_END: top

const TOP_COLUMNS: [Column; 4] = [
    Column {
        title: "UID",
        width: 0,
    },
    Column {
        title: "PID",
        width: 0,
    },
    Column {
        title: "PPID",
        width: 0,
    },
    Column {
        title: "CMD",
        width: 0,
    },
];

const STATS_COLUMNS: [Column; 6] = [
    Column {
        title: "CONTAINER ID",
        width: 0,
    },
    Column {
        title: "NAME",
        width: 0,
    },
    Column {
        title: "CPU %",
        width: 0,
    },
    Column {
        title: "MEM USAGE / LIMIT",
        width: 0,
    },
    Column {
        title: "MEM %",
        width: 0,
    },
    Column {
        title: "PIDS",
        width: 0,
    },
];

/// `stats --no-stream`: what each running container uses now; CPU % over
/// half a second, as a share of one CPU (200% is two CPUs busy).
pub fn stats(engine: &Engine, args: StatsArgs) -> anyhow::Result<i32> {
    let records: Vec<Record> = match args.containers.is_empty() {
        true => engine
            .containers
            .list()?
            .into_iter()
            .filter(Record::is_running)
            .collect(),
        false => args
            .containers
            .iter()
            .map(|key| engine.containers.find(key))
            .collect::<Result<_, _>>()?,
    };
    let inits: Vec<Option<u32>> = records
        .iter()
        .map(|r| {
            r.state
                .init
                .as_ref()
                .filter(|_| r.is_running())
                .map(|i| i.pid)
        })
        .collect();
    let first: Vec<Option<Usage>> = inits
        .iter()
        .map(|i| i.and_then(|p| usage(p).ok()))
        .collect();
    let window = Duration::from_millis(500);
    std::thread::sleep(window);
    let total = cratebox_cgroups::limits::human_size;
    let mut rows = Vec::new();
    for ((record, init), before) in records.iter().zip(&inits).zip(&first) {
        let now = init.and_then(|p| usage(p).ok()).unwrap_or_default();
        let cpu = match (before.as_ref().and_then(|u| u.cpu_ns), now.cpu_ns) {
            (Some(a), Some(b)) => format!(
                "{:.2}%",
                (b.saturating_sub(a)) as f64 / window.as_nanos() as f64 * 100.0
            ),
            _ => "--".to_string(),
        };
        let memory = now.memory.map(total).unwrap_or_else(|| "--".into());
        let limit = now
            .memory_limit
            .map(total)
            .unwrap_or_else(|| "no limit".into());
        let share = match (now.memory, now.memory_limit) {
            (Some(used), Some(limit)) if limit > 0 => {
                format!("{:.2}%", used as f64 / limit as f64 * 100.0)
            }
            _ => "--".to_string(),
        };
        rows.push(vec![
            record.short_id().to_string(),
            record.name.clone(),
            cpu,
            format!("{memory} / {limit}"),
            share,
            now.pids
                .map(|p| p.to_string())
                .unwrap_or_else(|| "--".into()),
        ]);
    }
    for line in table::fitted(&STATS_COLUMNS, &rows) {
        println!("{line}");
    }
    Ok(0)
}
