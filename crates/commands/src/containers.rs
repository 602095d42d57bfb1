//! `ps`, `rm`, `diff`, `commit`: containers, and what they changed.

use std::time::SystemTime;

use clap::Args;
use cratebox_image::reference::Reference;
use cratebox_runtime::containers::Record;
use cratebox_runtime::engine::Engine;

use crate::human::{ago, status_text};
use crate::table::{self, Column};

/// `ps [-a]`
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers, not only running ones
    #[arg(short, long)]
    pub all: bool,
}

/// `rm CONTAINER...`
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Names or ids
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// `commit CONTAINER NAME[:TAG]`
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Name or id
    pub container: String,
    /// NAME[:TAG] for the new image
    pub name: String,
}

/// `diff CONTAINER`
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Name or id
    pub container: String,
}

/// The columns of `ps`, at most as wide as docker's ([`table::fitted`]).
pub const PS_COLUMNS: [Column; 6] = [
    Column {
        title: "CONTAINER ID",
        width: 14,
    },
    Column {
        title: "IMAGE",
        width: 0,
    },
    Column {
        title: "COMMAND",
        width: 24,
    },
    Column {
        title: "CREATED",
        width: 0,
    },
    Column {
        title: "STATUS",
        width: 0,
    },
    Column {
        title: "NAMES",
        width: 0,
    },
];

/// The cells of one line of `ps`: the command quoted as docker quotes
/// it, times as "2 minutes ago". `full`: the whole id (`--no-trunc`).
pub fn ps_cells(record: &Record, now: SystemTime, full: bool) -> Vec<String> {
    let id = match full {
        true => record.id.clone(),
        false => record.short_id().to_string(),
    };
    vec![
        id,
        record.image.clone(),
        format!("{:?}", record.command.join(" ")),
        ago(&record.created, now),
        status_text(record, now),
        record.name.clone(),
    ]
}

// ANCHOR: ps_table
/// `ps`'s table: columns as wide as their cells, the command cut to 22
/// cells unless `full`.
pub fn ps_table(records: &[Record], now: SystemTime, full: bool) -> Vec<String> {
    let rows: Vec<Vec<String>> = records.iter().map(|r| ps_cells(r, now, full)).collect();
    let mut columns = PS_COLUMNS;
    if full {
        for column in &mut columns {
            column.width = 0;
        }
    }
    table::fitted(&columns, &rows)
}
// ANCHOR_END: ps_table

/// `ps`: running containers, or all with `-a`.
pub fn ps(engine: &Engine, args: PsArgs) -> anyhow::Result<i32> {
    let shown: Vec<Record> = engine
        .containers
        .list()?
        .into_iter()
        .filter(|record| args.all || record.is_running())
        .collect();
    for line in ps_table(&shown, SystemTime::now(), false) {
        println!("{line}");
    }
    Ok(0)
}

/// `rm`: each container and its writable layer.
pub fn rm(engine: &Engine, args: RmArgs) -> anyhow::Result<i32> {
    for key in args.containers {
        let record = engine.containers.find(&key)?;
        engine.remove_container(&record)?;
        println!("{key}");
    }
    Ok(0)
}

/// `commit`: print the new image's ID.
pub fn commit(engine: &Engine, args: CommitArgs) -> anyhow::Result<i32> {
    let name: Reference = args.name.parse()?;
    let image = engine.commit(&args.container, &name)?;
    println!("{}", image.id());
    Ok(0)
}

/// `diff`: one line per change, as `docker diff`.
pub fn diff(engine: &Engine, args: DiffArgs) -> anyhow::Result<i32> {
    let record = engine.containers.find(&args.container)?;
    let lowers = engine.lowers_of(&record)?;
    let upper = engine.containers.dirs(&record.id).upper;
    for change in cratebox_image::diff::changes(&upper, &lowers)? {
        println!("{change}");
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cratebox_runtime::containers::Status;

    fn record(command: &[&str], name: &str) -> Record {
        Record {
            id: "0123456789abcdef".repeat(4),
            name: name.into(),
            image: "demo:latest".into(),
            image_digest: String::new(),
            command: command.iter().map(|s| s.to_string()).collect(),
            created: "2026-11-29T22:02:14Z".into(),
            status: Status::Exited { code: 127 },
            spec: None,
            state: Default::default(),
        }
    }

    #[test]
    fn ps_cuts_commands_on_character_boundaries() {
        let now = humantime::parse_rfc3339("2026-11-29T22:04:14Z").expect("a time");
        let lines = ps_table(
            &[
                record(&["echo", "hello"], "plain"),
                // "echo aaaaaaaaaaaaaaa€ ...": the old byte cut at 22 fell
                // inside the euro sign and panicked.
                record(&["echo", "aaaaaaaaaaaaaaa€€€"], "euro"),
                record(&["echo", "日本語のテキストです"], "wide"),
            ],
            now,
            false,
        );
        insta::assert_snapshot!(lines.join("\n"));
    }
}
