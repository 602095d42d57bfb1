//! The exercises as info.toml lists them, and which of them are done.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// The exercises workspace: the directory above this runner's own.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the runner's directory is inside the exercises directory")
}

/// One `[[exercises]]` entry of info.toml.
#[derive(Debug, Deserialize)]
pub struct Exercise {
    /// Its directory, e.g. `01_clone_flags`.
    pub name: String,
    /// The book page that explains it, relative to the repository root.
    pub book: String,
    /// The hint `cargo ex hint` prints.
    pub hint: String,
    /// Whether its test makes real namespaces and so needs root.
    #[serde(default)]
    pub needs_root: bool,
}

impl Exercise {
    /// The cargo package: `01_clone_flags` is `ex01-clone-flags`. Derived,
    /// not written in info.toml, so the two cannot disagree.
    pub fn package(&self) -> String {
        format!("ex{}", self.name.replace('_', "-"))
    }

    /// The directory the learner edits.
    pub fn src_dir(&self) -> PathBuf {
        root().join(&self.name).join("src")
    }

    /// The reference solution.
    pub fn solution_path(&self) -> PathBuf {
        root().join("solutions").join(format!("{}.rs", self.name))
    }
}

#[derive(Debug, Deserialize)]
struct Info {
    exercises: Vec<Exercise>,
}

/// Every exercise, in order.
pub fn load() -> Result<Vec<Exercise>> {
    let path = root().join("info.toml");
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let info: Info =
        toml::from_str(&text).with_context(|| format!("cannot parse {}", path.display()))?;
    Ok(info.exercises)
}

/// The exercise called `name`, or an error listing the names there are.
pub fn find<'a>(exercises: &'a [Exercise], name: &str) -> Result<&'a Exercise> {
    match exercises.iter().find(|e| e.name == name) {
        Some(exercise) => Ok(exercise),
        None => {
            let names: Vec<&str> = exercises.iter().map(|e| e.name.as_str()).collect();
            bail!(
                "no exercise called {name:?}: try one of {}",
                names.join(", ")
            )
        }
    }
}

/// The names of the exercises whose tests have passed, one per line in
/// `.progress` (git-ignored: progress is the learner's, not the project's).
#[derive(Debug)]
pub struct Progress {
    done: BTreeSet<String>,
}

impl Progress {
    fn path() -> PathBuf {
        root().join(".progress")
    }

    /// Read the progress file; none yet means nothing is done.
    pub fn load() -> Result<Progress> {
        let done = match fs::read_to_string(Self::path()) {
            Ok(text) => text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", Self::path().display()))
            }
        };
        Ok(Progress { done })
    }

    /// Whether `exercise` has passed.
    pub fn is_done(&self, exercise: &Exercise) -> bool {
        self.done.contains(&exercise.name)
    }

    /// Record that `exercise` passed.
    pub fn record(&mut self, exercise: &Exercise) -> Result<()> {
        if self.done.insert(exercise.name.clone()) {
            let text: String = self.done.iter().map(|name| format!("{name}\n")).collect();
            fs::write(Self::path(), text)
                .with_context(|| format!("cannot write {}", Self::path().display()))?;
        }
        Ok(())
    }
}
