//! Run a chapter's README examples, as written, on both demo image sources.
//!
//! The README promises that its examples work on any Debian or Ubuntu
//! host, with or without `busybox-static`. Each chapter's `tests/readme.rs`
//! holds that promise: it lists what each of its README lines should do
//! (the line's comment, made checkable), and [`run_readme_examples`] runs
//! them in README order, once on an image built from busybox and once on one
//! built from the host's programs, each in a temp state root of its own.
//! A line added to, removed from or reordered in the README fails the test
//! until its expectation follows, so the two cannot drift apart.

use std::path::Path;

use cratebox_demo_image::{verify, SourceChoice, SourceKind};

use crate::examples::{readme_examples, workspace_root, Example};
use crate::{one_at_a_time, require_root, Outcome, TestEnv};

/// What one README line should do.
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    /// The README line's arguments after `--`, joined by spaces, quotes
    /// removed: which line this is about.
    pub args: &'static str,
    /// Its exit code.
    pub code: i32,
    /// Another exit code that is right too, where the two sources' programs
    /// differ (coreutils' `timeout` exits 124, busybox's is killed: 143).
    pub or_code: Option<i32>,
    /// Text its output (stdout and stderr) must contain.
    pub says: &'static [&'static str],
    /// How many lines its stdout must have.
    pub stdout_lines: Option<usize>,
    /// A file it must leave in the current directory.
    pub makes: Option<&'static str>,
}

impl Expect {
    /// The line with these arguments exits with `code`.
    pub const fn exits(args: &'static str, code: i32) -> Expect {
        Expect {
            args,
            code,
            or_code: None,
            says: &[],
            stdout_lines: None,
            makes: None,
        }
    }

    /// ... or with `code`.
    pub const fn or_exits(self, code: i32) -> Expect {
        Expect {
            or_code: Some(code),
            ..self
        }
    }

    /// ... and its output contains each of `says`.
    pub const fn saying(self, says: &'static [&'static str]) -> Expect {
        Expect { says, ..self }
    }

    /// ... and its stdout has `lines` lines.
    pub const fn stdout_lines(self, lines: usize) -> Expect {
        Expect {
            stdout_lines: Some(lines),
            ..self
        }
    }

    /// ... and it writes `file` in its current directory.
    pub const fn making(self, file: &'static str) -> Expect {
        Expect {
            makes: Some(file),
            ..self
        }
    }
}

/// Run every README line of `program` with the binary `bin`, in README
/// order, on each demo image source, checking each against `expected`
/// (one per line, same order). Needs root; skips the busybox source on a
/// host without a static busybox, and fails then under `CI=true`.
pub fn run_readme_examples(program: &str, bin: &str, expected: &[Expect]) {
    let examples: Vec<Example> = readme_examples()
        .into_iter()
        .filter(|e| e.program == program)
        .collect();
    let written: Vec<String> = examples.iter().map(|e| e.args.join(" ")).collect();
    let checked: Vec<&str> = expected.iter().map(|e| e.args).collect();
    assert_eq!(
        written, checked,
        "the README's lines for {program} (left) and the expectations for them (right) differ: \
         update the test with the README"
    );
    if !require_root() {
        return;
    }
    for choice in [SourceChoice::Busybox, SourceChoice::Host] {
        if let Err(error) = choice.source() {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "{error}");
            eprintln!("skipped the {choice} source: {error}");
            continue;
        }
        let _turn = one_at_a_time();
        let env = TestEnv::with_demo_source(choice);
        // Lines that write files (`save -o site.tar`) write them here.
        let cwd = env.state_root().join("cwd");
        std::fs::create_dir(&cwd).expect("cannot create the examples' directory");
        for (example, expect) in examples.iter().zip(expected) {
            let output = env
                .command(bin)
                .args(example.args.iter().map(|a| from_workspace(a)))
                .current_dir(&cwd)
                .output()
                .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
            check(example, expect, &Outcome::from(output), choice, &cwd);
        }
        // The examples ran on the image asked for, not one rebuilt under them.
        let built = verify(env.rootfs())
            .unwrap_or_else(|e| panic!("after the {choice} examples: {e}"))
            .source;
        let asked = match choice {
            SourceChoice::Host => SourceKind::HostBinaries,
            _ => SourceKind::Busybox,
        };
        assert_eq!(
            built, asked,
            "the demo image changed source under the examples"
        );
        env.finish();
    }
}

/// A relative path the README gives from the repository's root
/// (`chapters/ch05-dockerfile/tests/fixtures/notes-server`), made absolute, since
/// the examples run elsewhere.
fn from_workspace(arg: &str) -> String {
    let in_workspace = workspace_root().join(arg);
    if arg.contains('/') && !arg.starts_with('/') && in_workspace.exists() {
        in_workspace.display().to_string()
    } else {
        arg.to_string()
    }
}

fn check(example: &Example, expect: &Expect, out: &Outcome, choice: SourceChoice, cwd: &Path) {
    let context = format!(
        "README line `{}` on the {choice} demo image: {out:#?}",
        example.line
    );
    assert_ne!(
        out.code, 127,
        "a command is missing from the image: {context}"
    );
    assert!(
        !out.stderr.contains("not found"),
        "a command is missing from the image: {context}"
    );
    assert!(
        out.code == expect.code || Some(out.code) == expect.or_code,
        "exit code {} instead of {}: {context}",
        out.code,
        expect.code
    );
    let all = format!("{}{}", out.stdout, out.stderr);
    for text in expect.says {
        assert!(all.contains(text), "no {text:?} in the output: {context}");
    }
    if let Some(lines) = expect.stdout_lines {
        assert_eq!(out.stdout.lines().count(), lines, "{context}");
    }
    if let Some(file) = expect.makes {
        assert!(cwd.join(file).is_file(), "no {file} written: {context}");
    }
}
