//! Exercise 28's tests: every operation in every status, the same as
//! cratebox's own runtime decides it, a few lives of a container from
//! create to delete, and the refusals as a runtime prints them.

#[cfg(not(feature = "solution"))]
use ex28_oci_lifecycle as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/28_oci_lifecycle.rs"]
mod subject;

use cratebox_oci_runtime::lifecycle as real;
use subject::{transition, Operation, Refusal, Status};

const STATUSES: [Status; 4] = [
    Status::Creating,
    Status::Created,
    Status::Running,
    Status::Stopped,
];

const OPERATIONS: [Operation; 4] = [
    Operation::Start,
    Operation::Kill,
    Operation::Exited,
    Operation::Delete,
];

/// `start`, `kill`, `delete`, as the command is typed; `(exits)` for the
/// process ending, which no one types.
fn word(op: Operation) -> &'static str {
    match op {
        Operation::Start => "start",
        Operation::Kill => "kill",
        Operation::Delete => "delete",
        Operation::Exited => "(exits)",
    }
}

/// What an operation led to: the new status, `gone`, or the refusal.
fn outcome(result: &Result<Option<Status>, Refusal>) -> String {
    match result {
        Ok(Some(status)) => status.to_string(),
        Ok(None) => "gone".to_string(),
        Err(refusal) => format!("✗ {refusal}"),
    }
}

#[test]
fn status_is_written_as_state_reports_it() {
    let words: Vec<String> = STATUSES.iter().map(Status::to_string).collect();
    assert_eq!(words, ["creating", "created", "running", "stopped"]);
}

#[test]
fn every_operation_in_every_status() {
    let mut lines = Vec::new();
    for status in STATUSES {
        for op in OPERATIONS {
            let result = transition(status, op);
            lines.push(format!(
                "{:<9} {:<8} → {}",
                status.to_string(),
                word(op),
                outcome(&result)
            ));
        }
    }
    insta::assert_snapshot!(lines.join("\n"));
}

/// The runtime's own name for a status.
fn real_status(status: Status) -> real::Status {
    match status {
        Status::Creating => real::Status::Creating,
        Status::Created => real::Status::Created,
        Status::Running => real::Status::Running,
        Status::Stopped => real::Status::Stopped,
    }
}

/// The runtime's own name for an operation.
fn real_operation(op: Operation) -> real::Operation {
    match op {
        Operation::Start => real::Operation::Start,
        Operation::Kill => real::Operation::Kill,
        Operation::Delete => real::Operation::Delete,
        Operation::Exited => real::Operation::Exited,
    }
}

#[test]
fn agrees_with_cratebox_runtime() {
    for status in STATUSES {
        for op in OPERATIONS {
            // The two sets of types have the same names: their Debug forms
            // match when the answers do.
            let ours = format!("{:?}", transition(status, op));
            let theirs = format!(
                "{:?}",
                real::transition(real_status(status), real_operation(op))
            );
            assert_eq!(ours, theirs, "{status:?} + {op:?}: not cratebox's answer");
        }
    }
}

#[test]
fn the_rules_one_by_one() {
    use Operation::{Delete, Exited, Kill, Start};
    use Status::{Created, Creating, Running, Stopped};

    for op in OPERATIONS {
        assert_eq!(
            transition(Creating, op),
            Err(Refusal::StillCreating),
            "{op:?} while creating"
        );
    }
    assert_eq!(transition(Created, Start), Ok(Some(Running)));
    assert_eq!(
        transition(Running, Start),
        Err(Refusal::NotCreated(Running))
    );
    assert_eq!(
        transition(Stopped, Start),
        Err(Refusal::NotCreated(Stopped))
    );

    // A signal sent is not a status changed: the process may ignore it.
    assert_eq!(transition(Created, Kill), Ok(Some(Created)));
    assert_eq!(transition(Running, Kill), Ok(Some(Running)));
    assert_eq!(transition(Stopped, Kill), Err(Refusal::NotRunning));

    assert_eq!(transition(Created, Exited), Ok(Some(Stopped)));
    assert_eq!(transition(Running, Exited), Ok(Some(Stopped)));
    assert_eq!(transition(Stopped, Exited), Ok(Some(Stopped)));

    assert_eq!(transition(Stopped, Delete), Ok(None));
    assert_eq!(
        transition(Created, Delete),
        Err(Refusal::NotStopped(Created))
    );
    assert_eq!(
        transition(Running, Delete),
        Err(Refusal::NotStopped(Running))
    );
}

/// The operations `ops`, one after the other, from a container `create`
/// has just made: the path it takes, up to the end or the first refusal.
fn walk(ops: &[Operation]) -> String {
    let mut status = Status::Created;
    let mut path = status.to_string();
    for &op in ops {
        let result = transition(status, op);
        path.push_str(&format!(" -{}→ {}", word(op), outcome(&result)));
        match result {
            Ok(Some(next)) => status = next,
            Ok(None) | Err(_) => break,
        }
    }
    path
}

#[test]
fn lives_of_a_container() {
    use Operation::{Delete, Exited, Kill, Start};
    let cases: [(&str, &[Operation]); 6] = [
        ("podman run --rm alpine true", &[Start, Exited, Delete]),
        ("stopped by a signal", &[Start, Kill, Exited, Delete]),
        // podman stop waits, then sends SIGKILL, which cannot be ignored.
        (
            "SIGTERM ignored, then SIGKILL",
            &[Start, Kill, Kill, Exited, Delete],
        ),
        ("deleted before it starts", &[Delete]),
        ("delete --force before it starts", &[Kill, Exited, Delete]),
        ("started twice", &[Start, Start]),
    ];
    let lines: Vec<String> = cases
        .iter()
        .map(|(what, ops)| format!("{what}:\n    {}", walk(ops)))
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn each_refusal_is_one_line_that_says_why() {
    let refusals = [
        Refusal::StillCreating,
        Refusal::NotCreated(Status::Running),
        Refusal::NotCreated(Status::Stopped),
        Refusal::NotRunning,
        Refusal::NotStopped(Status::Created),
        Refusal::NotStopped(Status::Running),
    ];
    let lines: Vec<String> = refusals.iter().map(Refusal::to_string).collect();
    for line in &lines {
        assert!(!line.contains('\n'), "{line:?}");
    }
    insta::assert_snapshot!(lines.join("\n"));
}
