//! What a failed check shows: cargo's output, less what does not help a
//! learner and with what does said their way.
//!
//! - the empty `running 0 tests … test result: ok. 0 passed` blocks of the
//!   targets without tests (the library's unit tests, the doc-tests);
//! - cargo's `error: test failed, to rerun pass -p …`: the way to rerun
//!   here is `cargo ex check`;
//! - the standard library's note about `RUST_BACKTRACE`;
//! - insta's advice to review or update the snapshot: here the snapshot is
//!   the answer key, and the code is what should change;
//! - a `todo!()` of the stub: `not yet written: FILE:LINE`, in the
//!   learner's file, rather than a panic of a thread;
//! - paths in the workspace (`19_next_address/src/lib.rs:25:5`) as the
//!   learner would open them (`exercises/19_next_address/src/lib.rs:25:5`).

/// What replaces insta's advice, once per failed snapshot.
pub const SNAPSHOT_ADVICE: &str = "The snapshot is the expected answer: the `-old snapshot` lines \
     are what the test wants, the `+new results` lines what your code gave. \
     Change your code, not the snapshot.";

/// `output` of a cargo test run, tidied; `shown_root` is how paths in the
/// exercises workspace are shown (`exercises`, or `.` inside it).
pub fn tidy(output: &str, shown_root: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let mut kept: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line == "running 0 tests" {
            drop_header_of_empty_block(&mut kept);
            // Skip to the end of the block, its `test result:` line.
            while i < lines.len() && !lines[i].starts_with("test result:") {
                i += 1;
            }
            i += 1;
        } else if line.starts_with("error: test failed, to rerun pass") {
            i = skip_caused_by(&lines, i);
        } else if is_noise(line) {
        } else if let Some(panic) = Panic::parse(line) {
            let message = lines.get(i).copied().unwrap_or_default();
            if panic.is_in_insta() {
                kept.push(SNAPSHOT_ADVICE.to_string());
                i += 1;
            } else if let Some(what) = panic.todo(message) {
                kept.push(format!(
                    "not yet written: {}:{}{what}",
                    shown(panic.file, shown_root),
                    panic.line
                ));
                i += 1;
            } else {
                kept.push(panic.describe(shown_root));
            }
        } else {
            kept.push(rewrite_paths(line, shown_root));
        }
    }
    squeeze_blank_lines(&kept)
}

/// Lines that say nothing to act on here.
fn is_noise(line: &str) -> bool {
    line.starts_with("note: run with `RUST_BACKTRACE=1`")
        || line.starts_with("To update snapshots run `cargo insta")
        || line.starts_with("Stopped on the first failure.")
}

/// After cargo's `error: test failed`, its `Caused by:` when all it says
/// is that the test binary failed (which the output above shows, or which
/// the binary's runner explained): the index of the line after it.
fn skip_caused_by(lines: &[&str], start: usize) -> usize {
    let mut i = start;
    while lines.get(i).is_some_and(|l| l.trim().is_empty()) {
        i += 1;
    }
    let explains_nothing = lines.get(i) == Some(&"Caused by:")
        && lines.get(i + 1).is_some_and(|l| {
            l.trim_start()
                .starts_with("process didn't exit successfully")
        });
    if explains_nothing {
        i + 2
    } else {
        start
    }
}

/// Without `-q`, cargo names each test target before its block: that line
/// goes with the block.
fn drop_header_of_empty_block(kept: &mut Vec<String>) {
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    if kept.last().is_some_and(|l| {
        let l = l.trim_start();
        l.starts_with("Running ") || l.starts_with("Doc-tests ")
    }) {
        kept.pop();
    }
}

/// `thread 'NAME' (ID) panicked at FILE:LINE:COLUMN:`, taken apart.
#[derive(Debug)]
struct Panic<'a> {
    thread: &'a str,
    file: &'a str,
    line: &'a str,
    column: &'a str,
}

impl<'a> Panic<'a> {
    fn parse(text: &'a str) -> Option<Panic<'a>> {
        let rest = text.strip_prefix("thread '")?;
        let (thread, rest) = rest.split_once('\'')?;
        let (_, location) = rest.split_once(" panicked at ")?;
        let location = location.strip_suffix(':')?;
        let mut parts = location.rsplitn(3, ':');
        let column = parts.next()?;
        let line = parts.next()?;
        let file = parts.next()?;
        Some(Panic {
            thread,
            file,
            line,
            column,
        })
    }

    /// Whether the panic is insta's "snapshot assertion failed", raised in
    /// insta's own source wherever the registry keeps it.
    fn is_in_insta(&self) -> bool {
        self.file.contains("/insta-") && self.file.ends_with(".rs")
    }

    /// Whether it came from the learner's code, not from a test.
    fn is_in_stub(&self) -> bool {
        exercise_path(self.file).is_some_and(|rest| rest.starts_with("src/"))
    }

    /// For a `todo!()` of the stub, what it says is missing: `" — the
    /// lowest free address"`, or `""` for a bare `todo!()`.
    fn todo(&self, message: &str) -> Option<String> {
        if !self.is_in_stub() {
            return None;
        }
        let what = message.strip_prefix("not yet implemented")?;
        Some(match what.strip_prefix(": ") {
            Some(what) => format!(" — {what}"),
            None => String::new(),
        })
    }

    /// The panic's line, the learner's code called by name.
    fn describe(&self, shown_root: &str) -> String {
        let at = format!(
            "{}:{}:{}:",
            shown(self.file, shown_root),
            self.line,
            self.column
        );
        if self.is_in_stub() {
            format!("your code panicked at {at}")
        } else {
            format!("thread '{}' panicked at {at}", self.thread)
        }
    }
}

/// What follows an exercise's directory in `path`, when `path` is in one:
/// `src/lib.rs` for `19_next_address/src/lib.rs`.
fn exercise_path(path: &str) -> Option<&str> {
    let (dir, rest) = path.split_once('/')?;
    let bytes = dir.as_bytes();
    let numbered = bytes.len() > 3
        && bytes[0].is_ascii_digit()
        && bytes[1].is_ascii_digit()
        && bytes[2] == b'_';
    numbered.then_some(rest)
}

/// A path of the exercises workspace, as the learner would open it.
fn shown(path: &str, shown_root: &str) -> String {
    if shown_root != "." && exercise_path(path).is_some() {
        format!("{shown_root}/{path}")
    } else {
        path.to_string()
    }
}

/// The lines that name a file of the workspace: the compiler's ` --> `,
/// insta's `Snapshot file:` and `Source:`.
fn rewrite_paths(line: &str, shown_root: &str) -> String {
    for prefix in ["  --> ", " --> ", "Snapshot file: ", "Source: "] {
        if let Some(path) = line.strip_prefix(prefix) {
            return format!("{prefix}{}", shown(path, shown_root));
        }
    }
    line.to_string()
}

/// The lines joined, with at most one blank line in a row and none at
/// either end.
fn squeeze_blank_lines(lines: &[String]) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in lines {
        if line.trim().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real outputs of `cargo test -q -p PACKAGE` on exercises, captured
    /// with the environment the runner sets (see fixtures/README.md).
    fn fixture(name: &str) -> &'static str {
        match name {
            "todo_plain" => include_str!("../fixtures/todo_plain.txt"),
            "todo_snapshot" => include_str!("../fixtures/todo_snapshot.txt"),
            "wrong_snapshot" => include_str!("../fixtures/wrong_snapshot.txt"),
            "compile_error" => include_str!("../fixtures/compile_error.txt"),
            "learner_panic" => include_str!("../fixtures/learner_panic.txt"),
            "root_test" => include_str!("../fixtures/root_test.txt"),
            "verbose" => include_str!("../fixtures/verbose.txt"),
            "sudo_refused" => include_str!("../fixtures/sudo_refused.txt"),
            _ => panic!("no fixture {name}"),
        }
    }

    #[test]
    fn a_todo_in_the_stub_is_not_yet_written_there() {
        insta::assert_snapshot!(tidy(fixture("todo_plain"), "exercises"));
    }

    #[test]
    fn every_test_stopped_by_the_same_todo() {
        insta::assert_snapshot!(tidy(fixture("todo_snapshot"), "exercises"));
    }

    #[test]
    fn a_wrong_snapshot_says_to_change_the_code() {
        insta::assert_snapshot!(tidy(fixture("wrong_snapshot"), "exercises"));
    }

    #[test]
    fn compiler_errors_point_into_the_exercise() {
        insta::assert_snapshot!(tidy(fixture("compile_error"), "exercises"));
    }

    #[test]
    fn a_panic_in_the_learners_code_says_so() {
        insta::assert_snapshot!(tidy(fixture("learner_panic"), "exercises"));
    }

    #[test]
    fn a_panic_in_a_test_stays_the_tests() {
        insta::assert_snapshot!(tidy(fixture("root_test"), "."));
    }

    #[test]
    fn without_q_the_empty_targets_go_with_their_headers() {
        insta::assert_snapshot!(tidy(fixture("verbose"), "exercises"));
    }

    #[test]
    fn sudo_refusing_is_all_that_is_said() {
        insta::assert_snapshot!(tidy(fixture("sudo_refused"), "exercises"));
    }

    #[test]
    fn nothing_of_the_noise_is_left() {
        for name in [
            "todo_plain",
            "todo_snapshot",
            "wrong_snapshot",
            "compile_error",
            "learner_panic",
            "root_test",
            "verbose",
            "sudo_refused",
        ] {
            let tidied = tidy(fixture(name), "exercises");
            for noise in [
                "running 0 tests",
                "0 passed; 0 failed",
                "to rerun pass",
                "RUST_BACKTRACE",
                "cargo insta",
                "/insta-",
                "not yet implemented",
                "Caused by",
                "\n\n\n",
            ] {
                assert!(!tidied.contains(noise), "{name}: {noise:?} in\n{tidied}");
            }
        }
    }

    #[test]
    fn a_bare_todo_and_a_todo_in_a_test_file() {
        let bare = "thread 't' (7) panicked at 00_exit_code/src/lib.rs:9:5:\nnot yet implemented\n";
        assert_eq!(
            tidy(bare, "exercises"),
            "not yet written: exercises/00_exit_code/src/lib.rs:9\n"
        );
        // Without a thread id, as older toolchains print it, and in a test:
        // a todo!() there is the test's business, shown as it is.
        let in_test = "thread 't' panicked at 00_exit_code/tests/t.rs:3:5:\nnot yet implemented\n";
        assert_eq!(
            tidy(in_test, "."),
            "thread 't' panicked at 00_exit_code/tests/t.rs:3:5:\nnot yet implemented\n"
        );
    }
}
