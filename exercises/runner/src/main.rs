//! `cratebox-exercises`: the rustlings-style runner for cratebox's exercises.
//!
//! From the repository root, `cargo ex COMMAND` (an alias in .cargo/config.toml):
//!
//! - `list`: every exercise, done or pending as last checked;
//! - `check NAME`: run its tests; record it as done when they pass, and
//!   as pending when they do not;
//! - `check-all`: the same for every exercise, in order;
//! - `hint NAME`: the nudge the first time, the idea the second;
//! - `reset NAME`: the stub back as shipped (from git);
//! - `watch`: follow the exercise being edited and check it on every save;
//! - `solution NAME`: the reference solution, once NAME is done;
//! - `verify`: for CI, every stub fails its tests and every solution passes
//!   them, clippy-clean, and every hint's book section exists.
//!
//! The exercises are found at run time, from the current directory up.

mod book;
mod cargo;
mod checks;
mod exercises;
mod hints;
mod listing;
mod reset;
mod state;
mod terminal;
mod tidy;
mod watch;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use exercises::{Exercise, Workspace};
use state::{Names, HINTS, PROGRESS};

/// Exercises for the cratebox book: edit a stub until its tests pass.
#[derive(Debug, Parser)]
#[command(name = "cratebox-exercises", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// List the exercises, done or pending as last checked
    List,
    /// Run an exercise's tests; record whether they pass
    Check {
        /// The exercise, e.g. 01_clone_flags
        name: String,
    },
    /// Check every exercise again and record what passes now
    CheckAll,
    /// Show a hint: the nudge first, the idea the next time
    Hint {
        /// The exercise, e.g. 01_clone_flags
        name: String,
        /// Show the idea straight away
        #[arg(long)]
        idea: bool,
    },
    /// Put an exercise's stub back as shipped, from git
    Reset {
        /// The exercise, e.g. 01_clone_flags
        name: String,
        /// The commit to take the stub from
        #[arg(long, default_value = "HEAD")]
        from: String,
    },
    /// Follow the exercise you edit, checking it on every save
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
    let workspace = Workspace::discover()?;
    let workspace = &workspace;
    match cli.command {
        Cmd::List => list(workspace),
        Cmd::Check { name } => check(workspace, workspace.find(&name)?),
        Cmd::CheckAll => check_all(workspace),
        Cmd::Hint { name, idea } => hint(workspace, workspace.find(&name)?, idea),
        Cmd::Reset { name, from } => reset(workspace, workspace.find(&name)?, &from),
        Cmd::Watch => watch::watch(workspace),
        Cmd::Solution { name } => solution(workspace, workspace.find(&name)?),
        Cmd::Verify => verify(workspace),
    }
}

/// `SUCCESS` when `ok`, else `FAILURE`.
fn exit_code(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn list(workspace: &Workspace) -> Result<ExitCode> {
    let progress = Names::load(workspace, PROGRESS)?;
    print!(
        "{}",
        listing::list_text(
            workspace.all(),
            &|e| progress.contains(e),
            None,
            cargo::is_root()
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// Run the exercise's tests, say how it went, and record it.
fn check(workspace: &Workspace, exercise: &Exercise) -> Result<ExitCode> {
    if !exercise.runnable(cargo::is_root()) {
        println!(
            "{} makes real namespaces: its tests run through sudo (scripts/as-root), \
             which may ask for your password.",
            exercise.name
        );
    }
    println!("checking {}...", exercise.name);
    let verdict = checks::check(workspace, exercise)?;
    print!("{}", checks::report(exercise, &verdict));
    Ok(exit_code(verdict.passed()))
}

/// Check every exercise this process can run; the record follows.
fn check_all(workspace: &Workspace) -> Result<ExitCode> {
    let verdicts = checks::check_all(workspace, cargo::is_root(), |exercise, verdict| {
        println!("{}", checks::summary_line(exercise, verdict));
    })?;
    println!("{}", checks::summary(&verdicts, workspace.all().len()));
    let progress = Names::load(workspace, PROGRESS)?;
    println!(
        "{}",
        listing::progress_bar(progress.count(workspace.all()), workspace.all().len(), 30)
    );
    Ok(exit_code(verdicts.iter().all(|(_, v)| v.passed())))
}

/// The nudge the first time, the idea from then on (or with `--idea`).
fn hint(workspace: &Workspace, exercise: &Exercise, want_idea: bool) -> Result<ExitCode> {
    let mut seen = Names::load(workspace, HINTS)?;
    let level = hints::level(seen.contains(exercise), want_idea);
    if level == hints::Level::Nudge {
        seen.set(exercise, true)?;
    }
    let again = format!("`cargo ex hint {}` again", exercise.name);
    print!("{}", hints::render(exercise, level, &again));
    Ok(ExitCode::SUCCESS)
}

/// The stub back as `rev` has it; the exercise is pending again.
fn reset(workspace: &Workspace, exercise: &Exercise, rev: &str) -> Result<ExitCode> {
    let restored = reset::reset(workspace, exercise, rev)?;
    checks::record(workspace, exercise, false)?;
    for file in &restored {
        println!("{} is the stub at {rev} again", workspace.shown(&file.path));
        if let Some(kept) = &file.kept {
            println!("  your version: {}", workspace.shown(kept));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn solution(workspace: &Workspace, exercise: &Exercise) -> Result<ExitCode> {
    if !Names::load(workspace, PROGRESS)?.contains(exercise) {
        println!(
            "solve {} first: `cargo ex check {}` records it once its tests pass",
            exercise.name, exercise.name
        );
        return Ok(ExitCode::FAILURE);
    }
    let path = workspace.solution_path(exercise);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// Every exercise is well made: its book section exists, the stub compiles
/// and fails its tests, the solution passes them, and both are
/// clippy-clean. The stub's run is also a check of the learner's code, so
/// `.progress` is brought up to date on the way.
fn verify(workspace: &Workspace) -> Result<ExitCode> {
    let (mut passed, mut failed) = (0, 0);
    for exercise in workspace.all() {
        match verify_one(workspace, exercise)? {
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
    Ok(exit_code(failed == 0))
}

/// The outer `Result` is for the runner failing; the inner one says what is
/// wrong with the exercise.
fn verify_one(workspace: &Workspace, exercise: &Exercise) -> Result<Result<(), String>> {
    if let Err(problem) = book::check_section(workspace, exercise) {
        return Ok(Err(problem));
    }
    if !exercise.runnable(cargo::is_root()) {
        return Ok(Err("needs root; run verify as root".to_string()));
    }
    let explain =
        |what: &str, outcome: cargo::Outcome| format!("{what}\n{}", outcome.output.trim_end());
    let stub_build = cargo::run(workspace, "test", exercise, &["--no-run"])?;
    if !stub_build.success {
        return Ok(Err(explain("the stub does not compile", stub_build)));
    }
    let stub = cargo::run(workspace, "test", exercise, &[])?;
    checks::record(workspace, exercise, stub.success)?;
    if stub.success {
        return Ok(Err(
            "the stub passes its tests; they must fail until it is solved".to_string(),
        ));
    }
    let solved = cargo::run(workspace, "test", exercise, &["--features", "solution"])?;
    if !solved.success {
        return Ok(Err(explain("the solution fails the tests", solved)));
    }
    // With --all-targets this lints the stub (the library) and the solution
    // (compiled into the tests) in one go.
    let clippy = cargo::run(
        workspace,
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
