//! The exercises as info.toml lists them, and where they are on disk.
//!
//! Nothing here is fixed when the runner is built: the exercises directory
//! is looked for at run time, from the current directory up, so a checkout
//! that was moved or copied runs its own files, not the old folder's.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// One `[[exercises]]` entry of info.toml.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// Its directory, e.g. `01_clone_flags`.
    pub name: String,
    /// The book section that explains it, relative to the repository root:
    /// `book/src/ch07-network.md#addresses`.
    pub section: String,
    /// The first hint: where to look and what to think about.
    pub nudge: String,
    /// The second hint: the idea of a solution, close to code.
    pub idea: String,
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

    /// The book page of [`Exercise::section`], without the anchor.
    pub fn book_page(&self) -> &str {
        self.section
            .split_once('#')
            .map_or(self.section.as_str(), |(page, _)| page)
    }

    /// The anchor of [`Exercise::section`], if it has one.
    pub fn anchor(&self) -> Option<&str> {
        self.section.split_once('#').map(|(_, anchor)| anchor)
    }

    /// Whether this process may check it: root-only ones need root.
    pub fn runnable(&self, as_root: bool) -> bool {
        !self.needs_root || as_root
    }
}

#[derive(Debug, Deserialize)]
struct Info {
    exercises: Vec<Exercise>,
}

/// The exercises directory and what its info.toml lists.
#[derive(Debug)]
pub struct Workspace {
    root: PathBuf,
    exercises: Vec<Exercise>,
}

impl Workspace {
    /// The exercises around the current directory: see [`find_root`].
    pub fn discover() -> Result<Workspace> {
        let here = std::env::current_dir().context("cannot tell the current directory")?;
        Workspace::at(find_root(&here)?)
    }

    /// The exercises of the directory `root` (the one with info.toml).
    pub fn at(root: PathBuf) -> Result<Workspace> {
        let path = root.join("info.toml");
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let info: Info =
            toml::from_str(&text).with_context(|| format!("cannot parse {}", path.display()))?;
        Ok(Workspace {
            root,
            exercises: info.exercises,
        })
    }

    /// The exercises directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The repository the exercises belong to: book section paths start here.
    pub fn repository(&self) -> &Path {
        self.root.parent().unwrap_or(&self.root)
    }

    /// Every exercise, in order.
    pub fn all(&self) -> &[Exercise] {
        &self.exercises
    }

    /// The exercise called `name`, or an error listing the names there are.
    pub fn find(&self, name: &str) -> Result<&Exercise> {
        // Forgive a trailing slash: shells complete directory names with one.
        let name = name.trim_end_matches('/');
        match self.exercises.iter().find(|e| e.name == name) {
            Some(exercise) => Ok(exercise),
            None => {
                let names: Vec<&str> = self.exercises.iter().map(|e| e.name.as_str()).collect();
                bail!(
                    "no exercise called {name:?}: try one of {}",
                    names.join(", ")
                )
            }
        }
    }

    /// Where `exercise` sits in the list, counting from 0.
    pub fn position(&self, exercise: &Exercise) -> usize {
        self.exercises
            .iter()
            .position(|e| e.name == exercise.name)
            .unwrap_or(0)
    }

    /// The directory the learner edits.
    pub fn src_dir(&self, exercise: &Exercise) -> PathBuf {
        self.root.join(&exercise.name).join("src")
    }

    /// The stub the learner completes.
    pub fn lib_path(&self, exercise: &Exercise) -> PathBuf {
        self.src_dir(exercise).join("lib.rs")
    }

    /// The reference solution.
    pub fn solution_path(&self, exercise: &Exercise) -> PathBuf {
        self.root
            .join("solutions")
            .join(format!("{}.rs", exercise.name))
    }

    /// A file of the learner's own state, next to info.toml (git-ignored).
    pub fn state_file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// How to show the exercises directory to the learner: relative to the
    /// current directory when it is below it (`exercises`, or `.` inside
    /// it), else in full.
    pub fn shown_root(&self) -> String {
        let relative = std::env::current_dir()
            .ok()
            .and_then(|here| self.root.strip_prefix(here).ok().map(Path::to_path_buf));
        match relative {
            Some(path) if path.as_os_str().is_empty() => ".".to_string(),
            Some(path) => path.display().to_string(),
            None => self.root.display().to_string(),
        }
    }

    /// `path` as the learner would type it, from [`Workspace::shown_root`].
    pub fn shown(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(rest) => format!("{}/{}", self.shown_root(), rest.display()),
            Err(_) => path.display().to_string(),
        }
    }
}

/// The exercises directory that `start` is in or above: the first
/// directory, going up from `start`, that has `exercises/info.toml` or is
/// itself the exercises directory (`info.toml` next to `runner/`). The
/// runner's own directory must be there too, so that another project's
/// `info.toml` on the way up is not taken for ours.
pub fn find_root(start: &Path) -> Result<PathBuf> {
    for dir in start.ancestors() {
        for candidate in [dir.join("exercises"), dir.to_path_buf()] {
            if is_exercises_root(&candidate) {
                return Ok(candidate);
            }
        }
    }
    bail!(
        "cannot find the exercises: looked for exercises/info.toml and info.toml \
         (next to runner/Cargo.toml) in {} and every directory above it; \
         run `cargo ex` from the cratebox checkout",
        start.display()
    )
}

/// Whether `dir` looks like the exercises directory.
fn is_exercises_root(dir: &Path) -> bool {
    dir.join("info.toml").is_file() && dir.join("runner").join("Cargo.toml").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory under the system's temporary one, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let path = std::env::temp_dir()
                .join(format!("cratebox-exercises-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).expect("cannot make a scratch directory");
            Scratch(path)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// The real exercises directory, which this test file is in.
    fn real_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the runner is inside the exercises directory")
            .to_path_buf()
    }

    /// A copy of what the runner needs to find and read the exercises:
    /// info.toml, the runner's Cargo.toml, and the first exercise's stub.
    fn copy_checkout(to: &Path) -> (PathBuf, String) {
        let from = real_root();
        let first = Workspace::at(from.clone()).expect("info.toml").all()[0]
            .name
            .clone();
        let root = to.join("moved").join("exercises");
        fs::create_dir_all(root.join("runner")).expect("mkdir runner");
        fs::create_dir_all(root.join(&first).join("src")).expect("mkdir src");
        let stub = format!("{first}/src/lib.rs");
        for file in ["info.toml", "runner/Cargo.toml", stub.as_str()] {
            fs::copy(from.join(file), root.join(file)).expect("copy");
        }
        (root, first)
    }

    #[test]
    fn a_copied_checkout_is_found_from_inside_it_and_uses_its_own_files() {
        let scratch = Scratch::new("copy");
        let (root, first) = copy_checkout(&scratch.0);
        let repository = root.parent().expect("the copy's repository");
        for start in [
            repository.to_path_buf(),
            root.clone(),
            root.join("runner"),
            root.join(&first).join("src"),
        ] {
            assert_eq!(find_root(&start).expect("found"), root, "from {start:?}");
        }
        let workspace = Workspace::at(find_root(repository).expect("found")).expect("loaded");
        let first = &workspace.all()[0];
        assert!(workspace.lib_path(first).starts_with(&root));
        assert!(workspace.lib_path(first).is_file());
        assert_eq!(workspace.repository(), repository);
        assert!(!workspace.lib_path(first).starts_with(real_root()));
    }

    #[test]
    fn outside_a_checkout_the_error_says_where_it_looked() {
        let scratch = Scratch::new("nowhere");
        let deep = scratch.0.join("a/b");
        fs::create_dir_all(&deep).expect("mkdir");
        // An info.toml without the runner next to it is someone else's.
        fs::write(scratch.0.join("a/info.toml"), "").expect("write");
        let error = find_root(&deep).expect_err("nothing to find").to_string();
        assert!(error.contains(&deep.display().to_string()), "{error}");
        assert!(error.contains("every directory above it"), "{error}");
    }

    #[test]
    fn sections_split_into_page_and_anchor() {
        let exercise = Exercise {
            name: "19_next_address".into(),
            section: "book/src/ch07-network.md#addresses".into(),
            nudge: String::new(),
            idea: String::new(),
            needs_root: false,
        };
        assert_eq!(exercise.book_page(), "book/src/ch07-network.md");
        assert_eq!(exercise.anchor(), Some("addresses"));
        assert_eq!(exercise.package(), "ex19-next-address");
        assert!(exercise.runnable(false));
    }
}
