//! `cratebox-exercises`: the rustlings-style runner for cratebox's exercises.
//!
//! From the repository root, `cargo ex COMMAND` (an alias in .cargo/config.toml):
//!
//! - `list`: every exercise, done or pending;
//! - `check NAME`: run its tests; when they pass, record it as done;
//! - `hint NAME`: a nudge, from info.toml;
//! - `watch`: re-check the first pending exercise whenever its files change;
//! - `solution NAME`: the reference solution, once NAME is done;
//! - `verify`: for CI, every stub fails its tests and every solution passes
//!   them, clippy-clean.

mod cargo;
mod exercises;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use exercises::{Exercise, Progress};

/// Exercises for the cratebox book: edit a stub until its tests pass.
#[derive(Debug, Parser)]
#[command(name = "cratebox-exercises", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// List the exercises and which are done
    List,
    /// Run an exercise's tests; record it as done when they pass
    Check {
        /// The exercise, e.g. 01_clone_flags
        name: String,
    },
    /// Show an exercise's hint
    Hint {
        /// The exercise, e.g. 01_clone_flags
        name: String,
    },
    /// Check the first pending exercise again whenever a pending one changes
    Watch,
    /// Show the reference solution of an exercise you have solved
    Solution {
        /// The exercise, e.g. 01_clone_flags
        name: String,
    },
    /// For CI: every stub fails its tests, every solution passes, clippy-clean
    Verify,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("cratebox-exercises: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let all = exercises::load()?;
    match cli.command {
        Cmd::List => list(&all),
        Cmd::Check { name } => {
            let passed = check(exercises::find(&all, &name)?)?;
            Ok(if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Cmd::Hint { name } => {
            let exercise = exercises::find(&all, &name)?;
            println!(
                "{}\n\nThe book explains it in {}.",
                exercise.hint.trim(),
                exercise.book
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Watch => watch(&all),
        Cmd::Solution { name } => solution(exercises::find(&all, &name)?),
        Cmd::Verify => verify(&all),
    }
}

fn list(all: &[Exercise]) -> Result<ExitCode> {
    let progress = Progress::load()?;
    for exercise in all {
        let state = if progress.is_done(exercise) {
            "done"
        } else {
            "pending"
        };
        println!("{state:<8} {:<20} {}", exercise.name, exercise.book);
    }
    let done = all.iter().filter(|e| progress.is_done(e)).count();
    println!("{done} of {} done", all.len());
    Ok(ExitCode::SUCCESS)
}

/// Run the exercise's tests and say how it went; on a pass, record it.
fn check(exercise: &Exercise) -> Result<bool> {
    if exercise.needs_root && !cargo::is_root() {
        bail!(
            "{} makes real namespaces and needs root: run `cargo ex check {}` as root",
            exercise.name,
            exercise.name
        );
    }
    println!("checking {}...", exercise.name);
    let outcome = cargo::run("test", exercise, &[])?;
    if outcome.success {
        Progress::load()?.record(exercise)?;
        println!(
            "✓ {} passes. `cargo ex solution {}` shows the reference solution.",
            exercise.name, exercise.name
        );
    } else {
        println!("{}", outcome.output.trim_end());
        println!(
            "✗ {} does not pass yet. Stuck? `cargo ex hint {}`",
            exercise.name, exercise.name
        );
    }
    Ok(outcome.success)
}

/// Poll the pending exercises' sources once a second and check the first
/// pending one again on any change. Polling, not inotify: one stat per file
/// per second is nothing, and it needs no dependency. Ctrl-C ends it.
fn watch(all: &[Exercise]) -> Result<ExitCode> {
    let mut seen = BTreeMap::new();
    loop {
        let progress = Progress::load()?;
        let pending: Vec<&Exercise> = all.iter().filter(|e| !progress.is_done(e)).collect();
        let Some(first) = pending.first() else {
            println!("all {} exercises done", all.len());
            return Ok(ExitCode::SUCCESS);
        };
        let now = modification_times(&pending);
        if now != seen {
            seen = now;
            if let Err(error) = check(first) {
                println!("{error:#}");
            }
            println!(
                "\nwatching the pending exercises; {} is checked on every change (Ctrl-C to stop)",
                first.name
            );
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Every file under the exercises' src directories, with when it last changed.
fn modification_times(exercises: &[&Exercise]) -> BTreeMap<PathBuf, SystemTime> {
    fn walk(dir: &Path, times: &mut BTreeMap<PathBuf, SystemTime>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, times);
            } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                times.insert(path, modified);
            }
        }
    }
    let mut times = BTreeMap::new();
    for exercise in exercises {
        walk(&exercise.src_dir(), &mut times);
    }
    times
}

fn solution(exercise: &Exercise) -> Result<ExitCode> {
    if !Progress::load()?.is_done(exercise) {
        println!(
            "solve {} first: `cargo ex check {}` records it once its tests pass",
            exercise.name, exercise.name
        );
        return Ok(ExitCode::FAILURE);
    }
    let path = exercise.solution_path();
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// Every exercise is well made: the stub compiles and fails its tests, the
/// solution passes them, and both are clippy-clean.
fn verify(all: &[Exercise]) -> Result<ExitCode> {
    let (mut passed, mut failed) = (0, 0);
    for exercise in all {
        match verify_one(exercise)? {
            Ok(()) => {
                passed += 1;
                println!("ok   {}", exercise.name);
            }
            Err(problem) => {
                failed += 1;
                println!("FAIL {}: {problem}", exercise.name);
            }
        }
    }
    println!("verify: {passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The outer `Result` is for the runner failing; the inner one says what is
/// wrong with the exercise.
fn verify_one(exercise: &Exercise) -> Result<Result<(), String>> {
    if exercise.needs_root && !cargo::is_root() {
        return Ok(Err("needs root; run verify as root".to_string()));
    }
    let explain =
        |what: &str, outcome: cargo::Outcome| format!("{what}\n{}", outcome.output.trim_end());
    let stub_build = cargo::run("test", exercise, &["--no-run"])?;
    if !stub_build.success {
        return Ok(Err(explain("the stub does not compile", stub_build)));
    }
    let stub = cargo::run("test", exercise, &[])?;
    if stub.success {
        return Ok(Err(
            "the stub passes its tests; they must fail until it is solved".to_string(),
        ));
    }
    let solved = cargo::run("test", exercise, &["--features", "solution"])?;
    if !solved.success {
        return Ok(Err(explain("the solution fails the tests", solved)));
    }
    // With --all-targets this lints the stub (the library) and the solution
    // (compiled into the tests) in one go.
    let clippy = cargo::run(
        "clippy",
        exercise,
        &[
            "--features",
            "solution",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    if !clippy.success {
        return Ok(Err(explain("clippy has warnings", clippy)));
    }
    Ok(Ok(()))
}
