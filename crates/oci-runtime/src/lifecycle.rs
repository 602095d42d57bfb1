//! The runtime spec's state machine.
//!
//! ```text
//!   create            start             the process exits       delete
//! ─────────► creating ──► created ─────────► running ───────────► stopped ──────► (gone)
//!                           │  kill: a signal; the status changes only   ▲
//!                           │  when the process exits                    │
//!                           └────────────────────────────────────────────┘
//! ```
//!
//! The status is not stored: [`crate::state`] reads it from the world each
//! time (is the process alive? is the start fifo still there?), and this
//! function says what each operation may do from it.

use std::fmt;

use serde::{Deserialize, Serialize};

// ANCHOR: status
/// Where a container is in its life, as `state` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// `create` is still setting it up.
    Creating,
    /// Set up, its process waiting for `start`.
    Created,
    /// Its program runs.
    Running,
    /// Its process has ended.
    Stopped,
}
// ANCHOR_END: status

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // pad, not write_str: a table's `{:<9}` lines it up.
        f.pad(match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopped => "stopped",
        })
    }
}

/// What can happen to a container after `create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `start`.
    Start,
    /// `kill`.
    Kill,
    /// `delete` (without `--force`).
    Delete,
    /// The container's process ended.
    Exited,
}

/// Why an operation does not fit the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Only a created container can be started.
    NotCreated(Status),
    /// A stopped container cannot be signalled.
    NotRunning,
    /// Only a stopped container can be deleted.
    NotStopped(Status),
    /// `create` has not finished.
    StillCreating,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotCreated(status) => write!(
                f,
                "it is {status}, and only a created container can be started"
            ),
            Refusal::NotRunning => write!(f, "it is stopped: there is no process to signal"),
            Refusal::NotStopped(status) => write!(
                f,
                "it is {status}: stop it with `kill` first, or use `delete --force`"
            ),
            Refusal::StillCreating => write!(f, "it is still being created: try again"),
        }
    }
}

// ANCHOR: transition
/// What `op` does to a container that is `status`: its next status,
/// `None` once it is gone, or why the operation is refused.
pub fn transition(status: Status, op: Operation) -> Result<Option<Status>, Refusal> {
    use Operation::*;
    use Status::*;
    match (status, op) {
        (Creating, _) => Err(Refusal::StillCreating),
        (Created, Start) => Ok(Some(Running)),
        (Running | Stopped, Start) => Err(Refusal::NotCreated(status)),
        (Created | Running, Kill) => Ok(Some(status)),
        (Stopped, Kill) => Err(Refusal::NotRunning),
        (Created | Running | Stopped, Exited) => Ok(Some(Stopped)),
        (Stopped, Delete) => Ok(None),
        (Created | Running, Delete) => Err(Refusal::NotStopped(status)),
    }
}
// ANCHOR_END: transition

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_from_every_status() {
        let mut table = String::new();
        for status in [
            Status::Creating,
            Status::Created,
            Status::Running,
            Status::Stopped,
        ] {
            for op in [
                Operation::Start,
                Operation::Kill,
                Operation::Delete,
                Operation::Exited,
            ] {
                let outcome = match transition(status, op) {
                    Ok(Some(next)) => format!("→ {next}"),
                    Ok(None) => "→ (gone)".to_string(),
                    Err(refusal) => format!("refused: {refusal}"),
                };
                table.push_str(&format!("{status:<9} {op:<7?} {outcome}\n"));
            }
        }
        insta::assert_snapshot!(table);
    }
}
