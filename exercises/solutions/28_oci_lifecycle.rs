//! Exercise 28, solved.

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

/// The status after `op`, by the runtime spec's rules.
pub fn transition(status: Status, op: Operation) -> Result<Option<Status>, Refusal> {
    use Operation::{Delete, Exited, Kill, Start};
    use Status::{Created, Creating, Running, Stopped};
    match (status, op) {
        (Creating, _) => Err(Refusal::StillCreating),
        (Created, Start) => Ok(Some(Running)),
        (Running | Stopped, Start) => Err(Refusal::NotCreated(status)),
        // The signal is sent; the process exiting is what changes things.
        (Created | Running, Kill) => Ok(Some(status)),
        (Stopped, Kill) => Err(Refusal::NotRunning),
        (Created | Running | Stopped, Exited) => Ok(Some(Stopped)),
        (Stopped, Delete) => Ok(None),
        (Created | Running, Delete) => Err(Refusal::NotStopped(status)),
    }
}
