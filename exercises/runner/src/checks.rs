//! Checking exercises: run their tests, keep `.progress` up to date with
//! what was found, and say how it went.

use anyhow::{bail, Result};

use crate::cargo;
use crate::exercises::{Exercise, Workspace};
use crate::state::{Names, PROGRESS};
use crate::terminal;
use crate::tidy::tidy;

/// How a check went.
#[derive(Debug)]
pub enum Verdict {
    /// The tests pass.
    Passed,
    /// They do not; what they said, tidied.
    Failed(String),
}

impl Verdict {
    /// Whether the tests passed.
    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Passed)
    }
}

/// Run `exercise`'s tests and record the result: a pass marks it done, a
/// failure takes it off the record (it was solved, then broken again).
pub fn check(workspace: &Workspace, exercise: &Exercise) -> Result<Verdict> {
    let outcome = cargo::run(workspace, "test", exercise, &[])?;
    if !outcome.success && terminal::interrupted() {
        // Ctrl-C killed the tests: that says nothing about the code.
        bail!("interrupted");
    }
    record(workspace, exercise, outcome.success)?;
    Ok(if outcome.success {
        Verdict::Passed
    } else {
        Verdict::Failed(tidy(&outcome.output, &workspace.shown_root()))
    })
}

/// Mark `exercise` done in `.progress`, or not done.
pub fn record(workspace: &Workspace, exercise: &Exercise, passed: bool) -> Result<()> {
    Names::load(workspace, PROGRESS)?.set(exercise, passed)
}

/// What to tell the learner about a verdict: a line for a pass; the tests'
/// output and a line for a failure.
pub fn report(exercise: &Exercise, verdict: &Verdict) -> String {
    let name = &exercise.name;
    match verdict {
        Verdict::Passed => {
            format!("✓ {name} passes. `cargo ex solution {name}` shows the reference solution.\n")
        }
        Verdict::Failed(output) => {
            format!("{output}\n✗ {name} does not pass yet. Stuck? `cargo ex hint {name}`\n")
        }
    }
}

/// The line that says why a root-only exercise was not checked, and how
/// to check it.
pub fn needs_root_line(exercise: &Exercise) -> String {
    format!(
        "skipped, needs root: {name} — run `cargo ex check {name}` (it uses sudo)",
        name = exercise.name
    )
}

/// What `watch` says when the exercise it follows needs root.
pub fn needs_root_text(exercise: &Exercise) -> String {
    format!(
        "{name} makes real namespaces, which needs root: watch does not check it.\n\
         Run `cargo ex check {name}` in another terminal: its tests run through\n\
         sudo (scripts/as-root), which may ask for your password.",
        name = exercise.name
    )
}

/// Every exercise this process can run, checked in order, `.progress`
/// updated with each; `each` is told as it goes. Root-only exercises are
/// skipped without root, and keep what was recorded for them.
pub fn check_all(
    workspace: &Workspace,
    as_root: bool,
    mut each: impl FnMut(&Exercise, Option<&Verdict>),
) -> Result<Vec<(usize, Verdict)>> {
    let mut verdicts = Vec::new();
    for (index, exercise) in workspace.all().iter().enumerate() {
        if !exercise.runnable(as_root) {
            each(exercise, None);
            continue;
        }
        let verdict = check(workspace, exercise)?;
        each(exercise, Some(&verdict));
        verdicts.push((index, verdict));
    }
    Ok(verdicts)
}

/// One line of check-all's summary: `✓ 01_clone_flags`, `✗ 02_dev_plan`,
/// or the skipped line.
pub fn summary_line(exercise: &Exercise, verdict: Option<&Verdict>) -> String {
    match verdict {
        Some(Verdict::Passed) => format!("✓ {}", exercise.name),
        Some(Verdict::Failed(_)) => format!("✗ {}", exercise.name),
        None => format!("- {}", needs_root_line(exercise)),
    }
}

/// check-all's last line: `check-all: 3 pass, 21 do not pass yet, 1 skipped`.
pub fn summary(verdicts: &[(usize, Verdict)], total: usize) -> String {
    let passed = verdicts.iter().filter(|(_, v)| v.passed()).count();
    let failed = verdicts.len() - passed;
    let skipped = total - verdicts.len();
    format!("check-all: {passed} pass, {failed} do not pass yet, {skipped} skipped")
}
