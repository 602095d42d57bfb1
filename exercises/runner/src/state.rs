//! The learner's own state, next to info.toml and ignored by git: which
//! exercises passed when last checked (`.progress`) and which hints have
//! been shown (`.hints`). Each is a file of exercise names, one a line.

use std::collections::BTreeSet;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::exercises::{Exercise, Workspace};

/// The file of the exercises that passed when last checked.
pub const PROGRESS: &str = ".progress";

/// The file of the exercises whose nudge has been shown.
pub const HINTS: &str = ".hints";

/// A set of exercise names kept in a file.
#[derive(Debug)]
pub struct Names {
    path: PathBuf,
    names: BTreeSet<String>,
}

impl Names {
    /// The names in `file` of the workspace; no file yet means none.
    pub fn load(workspace: &Workspace, file: &str) -> Result<Names> {
        Names::load_path(workspace.state_file(file))
    }

    fn load_path(path: PathBuf) -> Result<Names> {
        let names = match fs::read_to_string(&path) {
            Ok(text) => text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
            Err(e) if e.kind() == ErrorKind::NotFound => BTreeSet::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(Names { path, names })
    }

    /// Whether `exercise` is in the set.
    pub fn contains(&self, exercise: &Exercise) -> bool {
        self.names.contains(&exercise.name)
    }

    /// How many of `exercises` are in the set (names of exercises that are
    /// no longer in info.toml do not count).
    pub fn count(&self, exercises: &[Exercise]) -> usize {
        exercises.iter().filter(|e| self.contains(e)).count()
    }

    /// Put `exercise` in the set or take it out, and save the file if that
    /// changed anything.
    pub fn set(&mut self, exercise: &Exercise, present: bool) -> Result<()> {
        let changed = if present {
            self.names.insert(exercise.name.clone())
        } else {
            self.names.remove(&exercise.name)
        };
        if changed {
            self.save()?;
        }
        Ok(())
    }

    fn save(&self) -> Result<()> {
        let text: String = self.names.iter().map(|name| format!("{name}\n")).collect();
        write_file(&self.path, &text)
    }
}

/// Write `text` to `path` through a temporary file and a rename, so that
/// an interrupted runner never leaves half a file.
fn write_file(path: &Path, text: &str) -> Result<()> {
    let temporary = path.with_extension("new");
    fs::write(&temporary, text)
        .and_then(|()| fs::rename(&temporary, path))
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(name: &str) -> Exercise {
        Exercise {
            name: name.into(),
            section: String::new(),
            nudge: String::new(),
            idea: String::new(),
            needs_root: false,
        }
    }

    #[test]
    fn names_are_added_removed_and_kept_one_a_line() {
        let dir = std::env::temp_dir().join(format!("cratebox-names-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join(".progress");
        let _ = fs::remove_file(&path);
        let (a, b) = (exercise("01_a"), exercise("02_b"));

        let mut names = Names::load_path(path.clone()).expect("no file is no names");
        assert!(!names.contains(&a));
        names.set(&b, true).expect("add");
        names.set(&a, true).expect("add");
        assert_eq!(fs::read_to_string(&path).expect("saved"), "01_a\n02_b\n");

        names.set(&b, false).expect("remove");
        let again = Names::load_path(path.clone()).expect("reload");
        assert!(again.contains(&a) && !again.contains(&b));
        assert_eq!(again.count(&[a, b, exercise("03_c")]), 1);
        fs::remove_dir_all(&dir).expect("clean up");
    }
}
