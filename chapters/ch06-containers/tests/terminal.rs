//! `run -it` and `exec -it`, driven through a real pseudo-terminal, as a
//! person at a terminal would: the size set on the terminal is the size
//! inside, Ctrl-C reaches the program in the foreground inside (not the
//! one outside), and `exit 3` ends the session with 3.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{setup, BIN};
use cratebox_testkit::TestEnv;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{openpty, Winsize};

/// The program under test on the slave end of a terminal of 40 rows and
/// 123 columns, as its controlling terminal; the master end is ours.
struct Session {
    master: OwnedFd,
    child: Child,
    seen: String,
}

impl Session {
    fn start(env: &TestEnv, args: &[&str]) -> Session {
        let size = Winsize {
            ws_row: 40,
            ws_col: 123,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&size), None).unwrap();
        let slave = pty.slave;
        let mut command = env.command(BIN);
        command
            .args(args)
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: only system calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                nix::unistd::setsid()?;
                // SAFETY: TIOCSCTTY takes an int and touches no memory.
                if libc::ioctl(0, libc::TIOCSCTTY, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            })
        };
        let child = command.spawn().unwrap();
        Session {
            master: pty.master,
            child,
            seen: String::new(),
        }
    }

    fn type_in(&mut self, keys: &str) {
        nix::unistd::write(&self.master, keys.as_bytes()).unwrap();
    }

    /// Read until `text` appears (after what was seen before), 20 s at most.
    fn expect(&mut self, text: &str) {
        let from = self.seen.len();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.seen[from..].contains(text) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no {text:?} in {:?}", &self.seen[from..]);
            let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLIN)];
            let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
            if poll(&mut fds, timeout).unwrap() == 0 {
                continue;
            }
            let mut buffer = [0u8; 4096];
            match nix::unistd::read(self.master.as_raw_fd(), &mut buffer) {
                Ok(0) | Err(_) => panic!("the terminal closed before {text:?}: {:?}", self.seen),
                Ok(n) => self.seen.push_str(&String::from_utf8_lossy(&buffer[..n])),
            }
        }
    }

    /// Wait for the program to end; its exit code.
    fn finish(mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "it did not end: {:?}", self.seen);
            // Keep the terminal drained, so the program is never blocked
            // writing to it.
            let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLIN)];
            if poll(&mut fds, PollTimeout::from(50u16)).unwrap_or(0) > 0 {
                let mut buffer = [0u8; 4096];
                let _ = nix::unistd::read(self.master.as_raw_fd(), &mut buffer);
            }
        }
    }
}

/// The checks both `run -it` and `exec -it` must pass, on a shell.
fn drive_a_shell(mut session: Session) {
    session.type_in("stty size\n");
    session.expect("40 123");
    // Ctrl-C ends the sleep in the foreground inside; the shell lives on.
    session.type_in("sleep 100\n");
    std::thread::sleep(Duration::from_millis(500));
    session.type_in("\x03");
    session.type_in("echo status-$?\n");
    session.expect("status-130");
    session.type_in("exit 3\n");
    assert_eq!(session.finish(), 3);
}

#[test]
fn run_it_is_a_terminal_inside() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    drive_a_shell(Session::start(&env, &["run", "-it", "--rm", "demo", "sh"]));
    assert_eq!(env.run_ok(BIN, &["ps", "-aq"]), "", "--rm removed it");
    env.finish();
}

#[test]
fn exec_it_is_a_terminal_inside_a_running_container() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    env.run_ok(
        BIN,
        &["run", "-d", "--name", "box", "demo", "sleep", "1000"],
    );
    drive_a_shell(Session::start(&env, &["exec", "-it", "box", "sh"]));
    // Without a terminal, -it is refused rather than half working.
    let refused = env.run(BIN, &["exec", "-it", "box", "sh"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("not a terminal"), "{refused:?}");
    env.run_ok(BIN, &["rm", "-f", "box"]);
    env.finish();
}

#[test]
fn attach_joins_a_detached_terminal_and_ctrl_p_ctrl_q_leaves_it() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    env.run_ok(BIN, &["run", "-dit", "--name", "box", "demo", "sh"]);
    let mut session = Session::start(&env, &["attach", "box"]);
    session.type_in("echo hi-$((1+1))\n");
    session.expect("hi-2");
    // The client's window size reached the container's terminal.
    session.type_in("stty size\n");
    session.expect("40 123");
    // Ctrl-P Ctrl-Q: attach ends, the container does not.
    session.type_in("\x10\x11");
    assert_eq!(session.finish(), 0);
    assert!(env.run_ok(BIN, &["ps"]).contains(" Up "));
    // Attached again, `exit 4` ends the shell, and attach with its code.
    let mut again = Session::start(&env, &["attach", "box"]);
    again.type_in("echo back\n");
    again.expect("back");
    again.type_in("exit 4\n");
    assert_eq!(again.finish(), 4);
    let state = env.run_ok(BIN, &["inspect", "box"]);
    assert!(state.contains("\"ExitCode\": 4"), "{state}");
    env.run_ok(BIN, &["rm", "box"]);
    env.finish();
}
