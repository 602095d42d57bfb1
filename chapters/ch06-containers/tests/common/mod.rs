//! What chapter 6's tests share: the program, running it, waiting.

// Each test file uses some of these, not all.
#![allow(dead_code)]

use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use cratebox_testkit::{one_at_a_time, require_root, Outcome, TestEnv};

/// The chapter's program.
pub const BIN: &str = env!("CARGO_BIN_EXE_ch06-containers");

/// Our turn (the leak checks look at the whole host, so the tests take
/// turns) and a fresh state root with the demo image; `None` where the
/// test cannot run (not root, outside CI).
pub fn setup() -> Option<(MutexGuard<'static, ()>, TestEnv)> {
    if !require_root() {
        return None;
    }
    let turn = one_at_a_time();
    Some((turn, TestEnv::new()))
}

/// Run the program with `args`.
pub fn run(env: &TestEnv, args: &[&str]) -> Outcome {
    env.run(BIN, args)
}

/// Run the program with `args`, insist it succeeded; its stdout.
pub fn ok(env: &TestEnv, args: &[&str]) -> String {
    env.run_ok(BIN, args)
}

/// Wait until `done` holds, at most 10 s.
pub fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
