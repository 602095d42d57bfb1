//! Exercise 00's tests: a table of wait statuses with the code and the
//! words for each; the same codes as cratebox's own; and real processes,
//! ended by `exit` and by signals, against the number a shell prints.

#[cfg(not(feature = "solution"))]
use ex00_exit_code as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/00_exit_code.rs"]
mod subject;

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use nix::unistd::Pid;
use subject::{describe, exit_code, Signal, WaitStatus};

/// Every kind of wait status: exits with ordinary and special codes,
/// deaths by signal with and without a core dump, and the states that are
/// not an end.
fn statuses() -> Vec<WaitStatus> {
    let pid = Pid::from_raw(42);
    let mut all: Vec<WaitStatus> = [0, 1, 2, 42, 125, 126, 127, 128, 255]
        .into_iter()
        .map(|code| WaitStatus::Exited(pid, code))
        .collect();
    for (signal, core) in [
        (Signal::SIGHUP, false),
        (Signal::SIGINT, false),
        (Signal::SIGQUIT, true),
        (Signal::SIGABRT, true),
        (Signal::SIGKILL, false),
        (Signal::SIGUSR1, false),
        (Signal::SIGSEGV, true),
        (Signal::SIGPIPE, false),
        (Signal::SIGTERM, false),
    ] {
        all.push(WaitStatus::Signaled(pid, signal, core));
    }
    all.extend([
        WaitStatus::Stopped(pid, Signal::SIGSTOP),
        WaitStatus::Stopped(pid, Signal::SIGTSTP),
        WaitStatus::Continued(pid),
        WaitStatus::StillAlive,
        WaitStatus::PtraceEvent(pid, Signal::SIGTRAP, 1),
        WaitStatus::PtraceSyscall(pid),
    ]);
    all
}

#[test]
fn each_status_with_its_code_and_words() {
    let lines: Vec<String> = statuses()
        .into_iter()
        .map(|status| {
            format!(
                "{:<36} {:<10} {}",
                format!("{status:?}"),
                format!("{:?}", exit_code(status)),
                describe(status).unwrap_or_else(|| "(not an end)".to_string())
            )
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn the_codes_are_the_ones_cratebox_exits_with() {
    for status in statuses() {
        assert_eq!(
            exit_code(status),
            cratebox_sandbox::exit::exit_code(status),
            "{status:?}"
        );
    }
}

#[test]
fn real_processes_end_with_the_number_a_shell_prints() {
    for script in [
        "exit 0",
        "exit 3",
        "exit 127",
        "kill -TERM $$",
        "kill -KILL $$",
        "kill -HUP $$",
        "kill -USR1 $$",
    ] {
        let status = Command::new("sh")
            .args(["-c", script])
            .status()
            .expect("sh runs");
        let wait =
            WaitStatus::from_raw(Pid::from_raw(1), status.into_raw()).expect("a wait status");
        // The same script in a shell that prints `$?` after it.
        let shell = Command::new("sh")
            .args(["-c", &format!("sh -c '{script}'; echo $?")])
            .output()
            .expect("sh runs");
        let printed: i32 = String::from_utf8_lossy(&shell.stdout)
            .trim()
            .parse()
            .expect("a number");
        assert_eq!(exit_code(wait), Some(printed), "{script}");
    }
}
