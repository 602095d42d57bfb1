//! `cargo ex reset NAME`: the exercise's stub back as shipped.
//!
//! "As shipped" is what git has for the exercise's `src/` at a commit, by
//! default HEAD: the files are read with `git show REV:PATH` and written
//! over the learner's, nothing else in the checkout is touched (no
//! `git checkout`, which would also drop staged changes, and no stash). A
//! learner who commits their own solutions can name an older commit with
//! `--from`. The version being replaced is kept under the exercises'
//! `target/reset/`, in case the reset was a slip.
//!
//! Without git, or outside a git checkout, there is nothing to read the
//! stub from: the error says so, and where to copy it from instead.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{bail, Context, Result};

use crate::exercises::{Exercise, Workspace};

/// What a reset did to one file.
#[derive(Debug, PartialEq, Eq)]
pub struct Restored {
    /// The file, in the exercise's `src/`.
    pub path: PathBuf,
    /// Where the learner's version went, when it differed.
    pub kept: Option<PathBuf>,
}

/// Put every file git has under the exercise's `src/` at `rev` back, and
/// say what was done.
pub fn reset(workspace: &Workspace, exercise: &Exercise, rev: &str) -> Result<Vec<Restored>> {
    if rev.starts_with('-') {
        bail!("{rev:?} is not a commit: name one such as HEAD, main or a hash");
    }
    let src = format!("{}/src", exercise.name);
    let listing = git(
        workspace.root(),
        &["ls-tree", "-r", "--name-only", rev, "--", &src],
    )
    .with_context(|| how_else(workspace, exercise))?;
    let files: Vec<&str> = listing.lines().filter(|l| !l.is_empty()).collect();
    if files.is_empty() {
        bail!(
            "git has no {src} at {rev}: {}",
            how_else(workspace, exercise)
        );
    }
    let mut restored = Vec::new();
    for file in files {
        let shipped = git_bytes(workspace.root(), &["show", &format!("{rev}:./{file}")])?;
        let path = workspace.root().join(file);
        let kept = keep_if_different(workspace, &path, &shipped)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&path, &shipped).with_context(|| format!("cannot write {}", path.display()))?;
        restored.push(Restored { path, kept });
    }
    Ok(restored)
}

/// Copy the learner's version of `path` under `target/reset/` when it is
/// not the shipped one already; where it went.
fn keep_if_different(
    workspace: &Workspace,
    path: &Path,
    shipped: &[u8],
) -> Result<Option<PathBuf>> {
    let Ok(current) = fs::read(path) else {
        return Ok(None);
    };
    if current == shipped {
        return Ok(None);
    }
    let relative = path.strip_prefix(workspace.root()).unwrap_or(path);
    let kept = workspace.root().join("target/reset").join(relative);
    if let Some(parent) = kept.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    fs::write(&kept, current).with_context(|| format!("cannot write {}", kept.display()))?;
    Ok(Some(kept))
}

/// Where to get the stub when git cannot give it.
fn how_else(workspace: &Workspace, exercise: &Exercise) -> String {
    format!(
        "`cargo ex reset` reads the stub from git; without it, copy {} from a fresh \
         copy of the cratebox repository",
        workspace.shown(&workspace.src_dir(exercise))
    )
}

/// `git ARGS` in `dir`, its stdout as text.
fn git(dir: &Path, args: &[&str]) -> Result<String> {
    Ok(String::from_utf8_lossy(&git_bytes(dir, args)?).into_owned())
}

/// `git ARGS` in `dir`, its stdout, or an error with what git said.
fn git_bytes(dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .context("cannot run git")?;
    if !status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&stderr).trim()
        );
    }
    Ok(stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .output()
            .expect("git runs")
            .status;
        assert!(status.success(), "git {args:?}");
    }

    /// A git repository holding info.toml and 01_clone_flags, committed.
    fn repository(dir: &Path) -> Workspace {
        let real = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the exercises directory");
        let root = dir.join("exercises");
        fs::create_dir_all(root.join("01_clone_flags/src")).expect("mkdir");
        fs::copy(real.join("info.toml"), root.join("info.toml")).expect("copy");
        fs::write(root.join("01_clone_flags/src/lib.rs"), "todo!()\n").expect("write");
        run_git(dir, &["init", "-q"]);
        run_git(dir, &["add", "."]);
        run_git(dir, &["commit", "-q", "-m", "stubs"]);
        Workspace::at(root).expect("info.toml")
    }

    #[test]
    fn the_stub_comes_back_from_git_and_the_learners_version_is_kept() {
        let dir = std::env::temp_dir().join(format!("cratebox-reset-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("mkdir");
        let workspace = repository(&dir);
        let exercise = workspace.find("01_clone_flags").expect("listed");
        let lib = workspace.lib_path(exercise);
        fs::write(&lib, "my answer\n").expect("edit");

        let restored = reset(&workspace, exercise, "HEAD").expect("reset");
        assert_eq!(fs::read_to_string(&lib).expect("read"), "todo!()\n");
        let kept = workspace
            .root()
            .join("target/reset/01_clone_flags/src/lib.rs");
        assert_eq!(
            restored,
            [Restored {
                path: lib.clone(),
                kept: Some(kept.clone())
            }]
        );
        assert_eq!(fs::read_to_string(&kept).expect("kept"), "my answer\n");

        // Again: nothing to keep this time.
        let again = reset(&workspace, exercise, "HEAD").expect("reset");
        assert_eq!(again[0].kept, None);

        let error = reset(&workspace, exercise, "no-such-rev").expect_err("no such commit");
        assert!(
            format!("{error:#}").contains("from a fresh copy"),
            "{error:#}"
        );
        fs::remove_dir_all(&dir).expect("clean up");
    }
}
