//! The demo image's list of commands (`cratebox_demo_image::COMMANDS`)
//! covers every command the project shows a reader running inside a
//! container: the README's examples, the chapters' demos and the lines they
//! suggest, the book's recorded samples (with the Dockerfiles they show),
//! and the notes-server recipe the README builds. Each is read from its file and
//! parsed as `sh` would, so a new command in any of them fails here until it
//! is on the list, and so in both kinds of image.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use cratebox_demo_image::{BREAKOUT_PATH, COMMANDS, ESCAPE_PATH, MEMHOG_PATH, PROBE_PATH};
use cratebox_testkit::examples::{
    book_samples, container_argv, demo_script, demo_suggestions, dockerfile_scripts,
    readme_examples, workspace_root, Example,
};
use cratebox_testkit::shell::{programs_in, programs_of};

/// Built into every shell the image has (dash, bash, busybox's ash), so no
/// image needs a file for them.
const SHELL_BUILTINS: [&str; 16] = [
    ":", ".", "break", "cd", "continue", "eval", "exec", "exit", "export", "local", "read",
    "return", "set", "shift", "trap", "wait",
];

/// Names the samples run on purpose without their being commands: the
/// samples that show what a missing command does, and what a file that
/// cannot be executed does.
const MEANT_TO_BE_MISSING: [&str; 2] = ["no-such-command", "/etc/passwd"];

/// Brought in from the host with `-v` by the lines that run them: chapter
/// 7's samples bind the host's static busybox for its httpd, chapter 9's
/// a setuid copy of the probe.
const BOUND_FROM_THE_HOST: [&str; 2] = ["busybox", "/suid/probe"];

/// The notes-server recipe's build context: the README builds it.
const SEED: &str = "chapters/ch05-dockerfile/tests/fixtures/notes-server";

/// Programs found, each with where it was found.
#[derive(Default)]
struct Found(Vec<(String, String)>);

impl Found {
    fn add(&mut self, origin: &str, programs: BTreeSet<String>) {
        for program in programs {
            self.0.push((program, origin.to_string()));
        }
    }

    /// What the lines run inside a container, when they say.
    fn add_examples(&mut self, origin: &str, examples: &[Example]) {
        for example in examples {
            if let Some(argv) = container_argv(&example.program, &example.args) {
                self.add(&format!("{origin}: {}", example.line), programs_of(&argv));
            }
        }
    }
}

/// Every file name in `dir` and below: what a recipe built from it brings.
fn file_names(dir: &Path, names: &mut BTreeSet<String>) {
    for entry in fs::read_dir(dir)
        .expect("the notes-server context is readable")
        .flatten()
    {
        names.insert(entry.file_name().to_string_lossy().into_owned());
        if entry.path().is_dir() {
            file_names(&entry.path(), names);
        }
    }
}

#[test]
fn the_demo_image_offers_every_command_the_readme_demos_and_book_run() {
    let mut found = Found::default();

    let readme = readme_examples();
    assert!(readme.len() >= 10, "the README's examples: {readme:?}");
    found.add_examples("README.md", &readme);

    let chapters = ["ch01-chroot", "ch02-namespaces", "ch03-cgroups"];
    for program in chapters {
        let script = demo_script(program);
        found.add(&format!("{program}'s demo"), programs_in(&script));
        let suggestions = demo_suggestions(&script);
        assert!(!suggestions.is_empty(), "{program}'s demo suggests nothing");
        found.add_examples(&format!("{program}'s demo"), &suggestions);
    }

    // The notes' story (ch06-story) runs in a Debian image, not the demo
    // image: its commands are Debian's, and each of its lines names it
    // (`--name debian`, `debian:bookworm`, `debian-hello`).
    let samples: Vec<Example> = book_samples()
        .into_iter()
        .filter(|e| !e.line.contains("debian"))
        .collect();
    assert!(samples.len() >= 50, "the book's samples: {}", samples.len());
    found.add_examples("book/src/output", &samples);

    // The Dockerfiles the book's chapter 5 samples show and build.
    let output = workspace_root().join("book/src/output");
    for entry in fs::read_dir(&output).expect("book/src/output").flatten() {
        let text = fs::read_to_string(entry.path()).expect("samples are text");
        for argv in dockerfile_scripts(&text) {
            let origin = format!("a Dockerfile in {}", entry.path().display());
            found.add(&origin, programs_of(&argv));
        }
    }

    // The notes-server recipe: its RUN and CMD, and the scripts it adds, which run
    // in the image too. The files it adds are its own commands.
    let seed = workspace_root().join(SEED);
    let recipe =
        fs::read_to_string(seed.join("Dockerfile")).expect("the notes server's Dockerfile");
    for argv in dockerfile_scripts(&recipe) {
        found.add("the notes server's Dockerfile", programs_of(&argv));
    }
    for script in ["start.sh", "server/bin/server"] {
        let text = fs::read_to_string(seed.join(script)).expect("the notes server's scripts");
        found.add(&format!("the notes server's {script}"), programs_in(&text));
    }
    let mut seed_files = BTreeSet::new();
    file_names(&seed, &mut seed_files);

    let listed: BTreeSet<&str> = COMMANDS.iter().map(|c| c.name).collect();
    let tools = [PROBE_PATH, BREAKOUT_PATH, MEMHOG_PATH, ESCAPE_PATH];
    let mut missing = Vec::new();
    for (program, origin) in &found.0 {
        let name = program.rsplit('/').next().unwrap_or(program);
        let covered = tools.contains(&program.as_str())
            || listed.contains(name)
            || SHELL_BUILTINS.contains(&name)
            || MEANT_TO_BE_MISSING.contains(&program.as_str())
            || BOUND_FROM_THE_HOST.contains(&program.as_str())
            || seed_files.contains(name);
        if !covered {
            missing.push(format!("{program} (run by {origin})"));
        }
    }
    assert!(
        missing.is_empty(),
        "not on the demo image's list (crates/demo-image/src/commands.rs):\n{}",
        missing.join("\n")
    );
    // The parse found the commands it is meant to: the README's first
    // command's demo pipes into `tr`, chapter 3 suggests `wc`.
    for name in ["tr", "wc", "timeout", "ps", "ip", "sed", "ln"] {
        assert!(
            found.0.iter().any(|(p, _)| p == name),
            "{name} was not found in any of the files"
        );
    }
}
