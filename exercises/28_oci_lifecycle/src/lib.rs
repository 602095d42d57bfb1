//! # Exercise 28: the OCI runtime's state machine
//!
//! ```text
//!            create           start            exits            delete
//! (nothing) ───────▶ created ───────▶ running ───────▶ stopped ───────▶ (gone)
//!                       │                                 ▲
//!                       └───────────── exits ─────────────┘
//! ```
//!
//! podman and containerd do not start containers themselves: they hand a
//! bundle to a runtime (runc, crun, and now cratebox) and drive it one
//! command at a time. `create` sets the container up and leaves its process
//! waiting just before the program; `start` lets it run; `kill` sends it a
//! signal; `state` says where it is; `delete` removes what is left. The
//! runtime spec says which command may come when, and a refused one must
//! change nothing.
//!
//! Write [`transition`]. The states, the operations and the refusals are
//! written. Run `cargo ex check 28_oci_lifecycle` until it passes.

// The parameters are unused until the `todo!()` is replaced.
#![allow(unused_variables)]

use std::fmt;

use thiserror::Error;

/// Where a container is, as `state` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `create` has begun and not yet returned.
    Creating,
    /// `create` is done: the process waits to be started.
    Created,
    /// `start` has let the program run, and it has not exited.
    Running,
    /// The process has exited; what is left is for `delete`.
    Stopped,
}

/// `created`: the word `state` prints in its JSON's `status`.
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopped => "stopped",
        })
    }
}

/// What happens to a container: a command of the runtime's, or its
/// process ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `start`: run the program `create` prepared.
    Start,
    /// `kill`: send the process a signal.
    Kill,
    /// `delete`: remove the container.
    Delete,
    /// Not a command: the container's process has ended.
    Exited,
}

/// Why the runtime refuses an operation. The container is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    /// `start` on a container that is not created: a program runs once.
    #[error("cannot start a container that is {0}: only a created container can start")]
    NotCreated(Status),
    /// `kill` on a stopped container: no process is left to signal.
    #[error("cannot kill a stopped container: its process has exited already")]
    NotRunning,
    /// `delete` on a container whose process is still there.
    #[error("cannot delete a container that is {0}: kill it and wait, or use delete --force")]
    NotStopped(Status),
    /// Anything at all before `create` has returned.
    #[error("the container is still being created: wait until create returns")]
    StillCreating,
}

/// The status after `op`, by the runtime spec's rules:
///
/// - while [`Status::Creating`], every operation is
///   [`Refusal::StillCreating`];
/// - `Start` takes a created container to running; any other status is
///   [`Refusal::NotCreated`] with that status;
/// - `Kill` leaves a created or running container as it is: the signal is
///   sent, and the status changes only when the process exits. A stopped
///   container is [`Refusal::NotRunning`];
/// - `Exited` takes a created or running container to stopped, and leaves
///   a stopped one stopped;
/// - `Delete` removes a stopped container: `Ok(None)`, there is no status
///   left. Any other is [`Refusal::NotStopped`] with its status (`delete
///   --force` kills first, and deletes once the process has exited).
pub fn transition(status: Status, op: Operation) -> Result<Option<Status>, Refusal> {
    // TODO: refuse everything while Creating, first.
    // TODO: then one arm per (status, op) pair that is allowed, and the
    //       refusals: match on the pair, `(Status::Created, Operation::Start)`.
    todo!("the status after this operation")
}
