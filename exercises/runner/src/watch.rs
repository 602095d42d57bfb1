//! `cargo ex watch`: follow the exercise being edited, check it on every
//! save, and move on when it passes.
//!
//! The sources are polled, not watched with inotify: a stat per file and
//! second is nothing, and it needs no dependency. Only `.rs` files count,
//! so an editor's swap and backup files do not start a check.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Result;

use crate::cargo::is_root;
use crate::checks::{self, Verdict};
use crate::exercises::{Exercise, Workspace};
use crate::hints::{self, Level};
use crate::listing::{list_text, progress_bar};
use crate::reset;
use crate::state::{Names, HINTS, PROGRESS};
use crate::terminal::{self, clear_screen, Keys};

/// How often the sources are looked at.
const POLL: Duration = Duration::from_secs(1);

/// What the keys do, as the screen's last line says it.
const KEYS: &str = "h hint · l list · n next · r reset · c check all · q quit";

/// When each source file last changed.
type Times = BTreeMap<PathBuf, SystemTime>;

/// Watch until `q` or Ctrl-C.
pub fn watch(workspace: &Workspace) -> Result<ExitCode> {
    let keys = Keys::setup()?;
    let mut session = Session::new(workspace, keys.available())?;
    let outcome = run(&mut session, &keys);
    drop(keys);
    match outcome {
        Err(_) if terminal::interrupted() => {}
        other => other?,
    }
    let progress = Names::load(workspace, PROGRESS)?;
    println!(
        "\n{}",
        progress_bar(progress.count(workspace.all()), workspace.all().len(), 30)
    );
    Ok(ExitCode::SUCCESS)
}

/// The loop: keys as they come, the files once a [`POLL`].
fn run(session: &mut Session, keys: &Keys) -> Result<()> {
    session.check_followed(Vec::new())?;
    let mut polled = Instant::now();
    while !terminal::interrupted() {
        if let Some(key) = keys.next(Duration::from_millis(200))? {
            if !session.on_key(key)? {
                break;
            }
        }
        if polled.elapsed() >= POLL {
            session.poll()?;
            polled = Instant::now();
        }
    }
    Ok(())
}

/// What `watch` knows between two screens.
struct Session<'a> {
    workspace: &'a Workspace,
    as_root: bool,
    keys: bool,
    /// The exercise followed, by its place in the list; `None` when every
    /// one this process can run is done.
    following: Option<usize>,
    seen: Times,
    /// The last check's screen, to go back to after the list.
    screen: String,
    /// `r` was pressed: the next key says whether to reset.
    confirming_reset: bool,
}

impl<'a> Session<'a> {
    fn new(workspace: &'a Workspace, keys: bool) -> Result<Session<'a>> {
        let mut session = Session {
            workspace,
            as_root: is_root(),
            keys,
            following: None,
            seen: source_times(workspace),
            screen: String::new(),
            confirming_reset: false,
        };
        session.following = session.next_pending(None)?;
        Ok(session)
    }

    /// The first pending exercise after `after` (from the start when
    /// `None`), going round, that this process can run.
    fn next_pending(&self, after: Option<usize>) -> Result<Option<usize>> {
        let progress = Names::load(self.workspace, PROGRESS)?;
        let all = self.workspace.all();
        Ok(next_pending(all.len(), after, |i| {
            !progress.contains(&all[i]) && all[i].runnable(self.as_root)
        }))
    }

    fn followed(&self) -> Option<&'a Exercise> {
        let workspace: &'a Workspace = self.workspace;
        self.following.map(|i| &workspace.all()[i])
    }

    /// Check the followed exercise; while it passes, record it and go on
    /// to the next pending one. `notes` go under the result, with a line
    /// for each exercise passed on the way.
    fn check_followed(&mut self, mut notes: Vec<String>) -> Result<()> {
        let body = loop {
            let Some(exercise) = self.followed() else {
                break self.all_done_text()?;
            };
            self.draw(&notes, exercise, &format!("checking {}...", exercise.name))?;
            if !exercise.runnable(self.as_root) {
                break checks::needs_root_text(exercise);
            }
            let verdict = checks::check(self.workspace, exercise)?;
            if !verdict.passed() {
                break checks::report(exercise, &verdict);
            }
            notes.push(checks::report(exercise, &verdict));
            self.following = self.next_pending(self.following)?;
        };
        self.screen = self.compose(&notes, self.followed(), &body)?;
        self.redraw();
        Ok(())
    }

    /// Clear the screen and show a screen with `body` in it.
    fn draw(&self, notes: &[String], exercise: &Exercise, body: &str) -> Result<()> {
        clear_screen();
        print!("{}", self.compose(notes, Some(exercise), body)?);
        Ok(())
    }

    /// A whole screen: `body` first, then what stays in view at the
    /// bottom however long the body is: notes, what was skipped, the
    /// progress bar, the followed exercise and its book section, the keys.
    fn compose(&self, notes: &[String], exercise: Option<&Exercise>, body: &str) -> Result<String> {
        let progress = Names::load(self.workspace, PROGRESS)?;
        let all = self.workspace.all();
        let mut screen = format!("{}\n\n", body.trim_end());
        for note in notes {
            screen.push_str(note.trim_end());
            screen.push('\n');
        }
        let followed = exercise.map(|e| e.name.as_str());
        for skipped in all.iter().filter(|e| {
            !e.runnable(self.as_root) && !progress.contains(e) && Some(e.name.as_str()) != followed
        }) {
            screen.push_str(&checks::needs_root_line(skipped));
            screen.push('\n');
        }
        if !screen.ends_with("\n\n") {
            screen.push('\n');
        }
        screen.push_str(&progress_bar(progress.count(all), all.len(), 30));
        screen.push('\n');
        if let Some(exercise) = exercise {
            screen.push_str(&format!(
                "Following {}: {}\nThe book: {}\n",
                exercise.name,
                self.workspace.shown(&self.workspace.lib_path(exercise)),
                exercise.section
            ));
        }
        screen.push_str(if self.keys {
            KEYS
        } else {
            "Save a file to check it; Ctrl-C stops."
        });
        screen.push('\n');
        Ok(screen)
    }

    fn all_done_text(&self) -> Result<String> {
        let progress = Names::load(self.workspace, PROGRESS)?;
        let all = self.workspace.all();
        Ok(if progress.count(all) == all.len() {
            format!("All {} exercises pass. Well done!", all.len())
        } else {
            "Every exercise you can run here passes.".to_string()
        })
    }

    /// Show the last check's screen again.
    fn redraw(&self) {
        clear_screen();
        print!("{}", self.screen);
    }

    /// Follow the exercise whose file changed last, if any did, and check it.
    fn poll(&mut self) -> Result<()> {
        let now = source_times(self.workspace);
        if now == self.seen {
            return Ok(());
        }
        let changed = last_changed(&self.seen, &now)
            .and_then(|path| owner(self.workspace.root(), path))
            .and_then(|name| self.workspace.find(&name).ok());
        if let Some(exercise) = changed {
            self.following = Some(self.workspace.position(exercise));
        }
        self.seen = now;
        self.confirming_reset = false;
        self.check_followed(Vec::new())
    }

    /// Act on a key; `false` to quit.
    fn on_key(&mut self, key: u8) -> Result<bool> {
        if self.confirming_reset {
            self.confirming_reset = false;
            if key == b'y' {
                self.reset()?;
            } else {
                println!("\nKept your version.");
            }
            return Ok(true);
        }
        match key {
            b'q' => return Ok(false),
            b'h' => self.hint()?,
            b'l' => self.list()?,
            b'n' => self.skip()?,
            b'r' => self.ask_reset(),
            b'c' => self.check_all()?,
            b'\n' | b'\r' => self.redraw(),
            _ => {}
        }
        Ok(true)
    }

    /// The nudge the first time, the idea after: below the screen.
    fn hint(&mut self) -> Result<()> {
        let Some(exercise) = self.followed() else {
            return Ok(());
        };
        let mut seen = Names::load(self.workspace, HINTS)?;
        let level = hints::level(seen.contains(exercise), false);
        if level == Level::Nudge {
            seen.set(exercise, true)?;
        }
        println!("\n{}", hints::render(exercise, level, "h again"));
        Ok(())
    }

    fn list(&self) -> Result<()> {
        let progress = Names::load(self.workspace, PROGRESS)?;
        let following = self.followed().map(|e| e.name.as_str());
        clear_screen();
        print!(
            "{}",
            list_text(
                self.workspace.all(),
                &|e| progress.contains(e),
                following,
                self.as_root
            )
        );
        println!("\nEnter: back · {KEYS}");
        Ok(())
    }

    /// Leave the followed exercise for the next pending one.
    fn skip(&mut self) -> Result<()> {
        match self.next_pending(self.following)? {
            Some(next) if Some(next) != self.following => {
                self.following = Some(next);
                self.check_followed(Vec::new())
            }
            _ => {
                println!("\nNo other pending exercise to go to.");
                Ok(())
            }
        }
    }

    fn ask_reset(&mut self) {
        if let Some(exercise) = self.followed() {
            println!(
                "\nPut {}'s src/ back as shipped (git's HEAD)? Your version is kept under {}.\n\
                 y: reset · any other key: keep it",
                exercise.name,
                self.workspace
                    .shown(&self.workspace.root().join("target/reset")),
            );
            self.confirming_reset = true;
        }
    }

    fn reset(&mut self) -> Result<()> {
        let Some(exercise) = self.followed() else {
            return Ok(());
        };
        match reset::reset(self.workspace, exercise, "HEAD") {
            Ok(restored) => {
                let mut notes = vec![format!("Reset {} to its stub.", exercise.name)];
                for kept in restored.iter().filter_map(|r| r.kept.as_ref()) {
                    notes.push(format!("Your version: {}", self.workspace.shown(kept)));
                }
                self.seen = source_times(self.workspace);
                self.check_followed(notes)
            }
            Err(error) => {
                println!("\ncannot reset {}: {error:#}", exercise.name);
                Ok(())
            }
        }
    }

    /// Check every exercise, then follow the first pending one if the
    /// followed one now passes.
    fn check_all(&mut self) -> Result<()> {
        clear_screen();
        println!("Checking every exercise...\n");
        let verdicts = checks::check_all(self.workspace, self.as_root, |exercise, verdict| {
            println!("{}", checks::summary_line(exercise, verdict));
        })?;
        let still_failing = |i: usize| {
            verdicts
                .iter()
                .find(|(index, _)| *index == i)
                .and_then(|(_, verdict)| match verdict {
                    Verdict::Failed(_) => Some(verdict),
                    Verdict::Passed => None,
                })
        };
        if self.following.and_then(still_failing).is_none() {
            self.following = self.next_pending(None)?;
        }
        let body = match self.followed() {
            Some(exercise) => match self.following.and_then(still_failing) {
                Some(verdict) => checks::report(exercise, verdict),
                None => checks::needs_root_text(exercise),
            },
            None => self.all_done_text()?,
        };
        let summary = vec![checks::summary(&verdicts, self.workspace.all().len())];
        self.screen = self.compose(&summary, self.followed(), &body)?;
        self.redraw();
        Ok(())
    }
}

/// The first index after `after` (from 0 when `None`), going round, for
/// which `wanted` holds; `after` itself comes last.
fn next_pending(
    count: usize,
    after: Option<usize>,
    wanted: impl Fn(usize) -> bool,
) -> Option<usize> {
    let start = after.map_or(0, |i| i + 1);
    (start..count)
        .chain(0..start.min(count))
        .find(|&i| wanted(i))
}

/// The `.rs` files under every exercise's `src/`, with when each changed.
fn source_times(workspace: &Workspace) -> Times {
    fn walk(dir: &Path, times: &mut Times) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, times);
            } else if path.extension().is_some_and(|e| e == "rs") {
                if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                    times.insert(path, modified);
                }
            }
        }
    }
    let mut times = Times::new();
    for exercise in workspace.all() {
        walk(&workspace.src_dir(exercise), &mut times);
    }
    times
}

/// Of the files that changed between `before` and `after`, the one changed
/// last; a removed file when nothing else changed.
fn last_changed<'t>(before: &'t Times, after: &'t Times) -> Option<&'t Path> {
    after
        .iter()
        .filter(|(path, time)| before.get(*path) != Some(*time))
        .max_by_key(|(_, time)| **time)
        .map(|(path, _)| path.as_path())
        .or_else(|| {
            before
                .keys()
                .find(|path| !after.contains_key(*path))
                .map(PathBuf::as_path)
        })
}

/// The exercise a file of the workspace belongs to: the first directory
/// of its path under `root`.
fn owner(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let first = relative.components().next()?;
    Some(first.as_os_str().to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_pending_goes_round_and_comes_back_last() {
        let pending = [false, true, false, true, false];
        let wanted = |i: usize| pending[i];
        assert_eq!(next_pending(5, None, wanted), Some(1));
        assert_eq!(next_pending(5, Some(1), wanted), Some(3));
        assert_eq!(next_pending(5, Some(3), wanted), Some(1));
        assert_eq!(next_pending(5, Some(4), wanted), Some(1));
        // Only itself left: itself.
        assert_eq!(next_pending(5, Some(1), |i| i == 1), Some(1));
        assert_eq!(next_pending(5, Some(2), |_| false), None);
        assert_eq!(next_pending(0, None, |_| true), None);
    }

    #[test]
    fn without_root_the_root_only_exercises_are_passed_over() {
        let exercise = |name: &str, needs_root| Exercise {
            name: name.into(),
            section: String::new(),
            nudge: String::new(),
            idea: String::new(),
            needs_root,
        };
        let all = [
            exercise("03_id_maps", false),
            exercise("04_live_namespaces", true),
            exercise("05_parse_limits", false),
        ];
        let done = ["03_id_maps"];
        let pick = |as_root: bool, after| {
            next_pending(all.len(), after, |i| {
                !done.contains(&all[i].name.as_str()) && all[i].runnable(as_root)
            })
        };
        assert_eq!(pick(false, None), Some(2), "04 skipped without root");
        assert_eq!(pick(true, None), Some(1), "04 next with root");
        assert_eq!(pick(false, Some(2)), Some(2), "only 05 is left to a user");
        assert_eq!(
            checks::needs_root_line(&all[1]),
            "skipped, needs root: 04_live_namespaces — run `cargo ex check 04_live_namespaces` \
             (it uses sudo)"
        );
    }

    #[test]
    fn the_file_changed_last_says_which_exercise_to_follow() {
        let root = Path::new("/r/exercises");
        let at = |seconds| SystemTime::UNIX_EPOCH + Duration::from_secs(seconds);
        let before: Times = [
            (root.join("01_a/src/lib.rs"), at(10)),
            (root.join("02_b/src/lib.rs"), at(20)),
            (root.join("03_c/src/lib.rs"), at(30)),
        ]
        .into();
        let mut after = before.clone();
        after.insert(root.join("01_a/src/lib.rs"), at(50));
        after.insert(root.join("02_b/src/lib.rs"), at(40));
        let path = last_changed(&before, &after).expect("a change");
        assert_eq!(owner(root, path).as_deref(), Some("01_a"));

        // A new file counts as a change; a removed one only when alone.
        let mut added = before.clone();
        added.insert(root.join("03_c/src/more.rs"), at(5));
        let path = last_changed(&before, &added).expect("a change");
        assert_eq!(owner(root, path).as_deref(), Some("03_c"));
        let mut removed = before.clone();
        removed.remove(&root.join("02_b/src/lib.rs"));
        let path = last_changed(&before, &removed).expect("a change");
        assert_eq!(owner(root, path).as_deref(), Some("02_b"));

        assert_eq!(last_changed(&before, &before), None);
        assert_eq!(owner(root, Path::new("/elsewhere/lib.rs")), None);
    }
}
