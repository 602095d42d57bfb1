//! The command lines the project shows its readers, read from where they are
//! written, so that tests run and check exactly those and cannot drift:
//!
//! - [`readme_examples`]: every `cargo run -p ...` line in the README;
//! - [`demo_script`] and [`demo_suggestions`]: what each chapter runs when
//!   given no command, and the command lines its demo suggests trying;
//! - [`book_samples`]: the `$ sudo chNN-... ` lines of the book's recorded
//!   output (`book/src/output`);
//! - [`dockerfile_scripts`]: the RUN, CMD and ENTRYPOINT lines of a Dockerfile.
//!
//! [`container_argv`] then says what each line runs inside the container.

use std::fs;
use std::path::{Path, PathBuf};

use crate::shell::{lex, Token};

/// The repository's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the testkit lives two levels below the workspace root")
}

fn read(relative: &str) -> String {
    let path = workspace_root().join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// One command line of a chapter program, as a reader would type it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The line as written, for messages.
    pub line: String,
    /// The chapter program (`ch02-namespaces`).
    pub program: String,
    /// Its arguments, quotes removed.
    pub args: Vec<String>,
}

/// The words of `line` up to the first operator or comment.
fn words(line: &str) -> Vec<String> {
    lex(line)
        .tokens
        .into_iter()
        .map_while(|token| match token {
            Token::Word(word) => Some(word),
            Token::End(_) | Token::Redirect(_) => None,
        })
        .collect()
}

/// Every `cargo run -p PROGRAM [-- ARGS]` line in the README's `sh` blocks,
/// in order: the first command, then the "Try, for instance" block.
pub fn readme_examples() -> Vec<Example> {
    let readme = read("README.md");
    let mut in_sh_block = false;
    let mut found = Vec::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh_block = !in_sh_block && line.trim() == "```sh";
            continue;
        }
        if !in_sh_block || !line.starts_with("cargo run ") {
            continue;
        }
        let words = words(line);
        let program = words
            .iter()
            .skip_while(|w| *w != "-p")
            .nth(1)
            .unwrap_or_else(|| panic!("README line without -p PROGRAM: {line}"))
            .clone();
        let args = words
            .iter()
            .skip_while(|w| *w != "--")
            .skip(1)
            .cloned()
            .collect();
        found.push(Example {
            line: line.to_string(),
            program,
            args,
        });
    }
    found
}

/// The script chapter `program` runs when given no command (its `DEMO`).
pub fn demo_script(program: &str) -> String {
    let main = read(&format!("chapters/{program}/src/main.rs"));
    let start = main
        .find("const DEMO: &str = r#\"")
        .unwrap_or_else(|| panic!("chapters/{program}/src/main.rs has no DEMO script"));
    let rest = &main[start..];
    let body = &rest[rest.find('"').expect("found above") + 1..];
    body[..body.find("\"#;").expect("a raw string ends")].to_string()
}

/// The command lines a demo script suggests, in lines like
/// `echo "try: ch03-cgroups -m 32m /usr/local/bin/memhog"` and the
/// indented ones that follow them.
pub fn demo_suggestions(script: &str) -> Vec<Example> {
    crate::shell::simple_commands(script)
        .into_iter()
        .filter(|argv| argv[0] == "echo" && argv.len() == 2)
        .filter_map(|argv| {
            let text = argv[1].trim_start();
            let text = text.strip_prefix("try:").unwrap_or(text).trim_start();
            let words = words(text);
            let program = words.first()?;
            program.starts_with("ch0").then(|| Example {
                line: text.to_string(),
                program: program.clone(),
                args: words[1..].to_vec(),
            })
        })
        .collect()
}

/// Every `$ sudo chNN-...` line of the book's recorded samples.
pub fn book_samples() -> Vec<Example> {
    let dir = workspace_root().join("book/src/output");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .collect();
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("samples are text");
        for line in text.lines() {
            let Some(command) = line.strip_prefix("$ sudo ch0") else {
                continue;
            };
            let words = words(&format!("ch0{command}"));
            found.push(Example {
                line: line.to_string(),
                program: words[0].clone(),
                args: words[1..].to_vec(),
            });
        }
    }
    found
}

/// The argument vector a RUN, CMD or ENTRYPOINT line runs: its JSON array,
/// or `sh -c` and its shell form. Other lines give `None`. A `Step N/M : `
/// prefix, as the builder prints it, is allowed.
pub fn dockerfile_argv(line: &str) -> Option<Vec<String>> {
    let line = match line.split_once(" : ") {
        Some((step, rest)) if step.starts_with("Step ") => rest,
        _ => line,
    };
    let (keyword, rest) = line.trim_start().split_once(' ')?;
    if !["RUN", "CMD", "ENTRYPOINT"].contains(&keyword) {
        return None;
    }
    let rest = rest.trim();
    match serde_json::from_str::<Vec<String>>(rest) {
        Ok(argv) => Some(argv),
        Err(_) if rest.starts_with('[') => None,
        Err(_) => Some(vec!["sh".into(), "-c".into(), rest.to_string()]),
    }
}

/// [`dockerfile_argv`] of every line of a Dockerfile (or of a text that
/// shows one), continuation lines joined and comments between them skipped.
pub fn dockerfile_scripts(text: &str) -> Vec<Vec<String>> {
    let mut joined: Vec<String> = Vec::new();
    let mut continuing = false;
    for line in text.lines() {
        if continuing && line.trim_start().starts_with('#') {
            continue;
        }
        let (body, continues) = match line.trim_end().strip_suffix('\\') {
            Some(body) => (body, true),
            None => (line, false),
        };
        match (continuing, joined.last_mut()) {
            (true, Some(last)) => last.push_str(body),
            _ => joined.push(body.to_string()),
        }
        continuing = continues;
    }
    joined.iter().filter_map(|l| dockerfile_argv(l)).collect()
}

/// The options of the chapter programs that take a value: the word after
/// one of these is its value, not the command.
const VALUE_OPTIONS: [&str; 31] = [
    "--rootfs",
    "--hostname",
    "-m",
    "--memory",
    "--memory-swap",
    "--cpus",
    "--pids-limit",
    "--name",
    "-e",
    "--env",
    "-w",
    "--workdir",
    "-u",
    "--user",
    "--env-file",
    "--entrypoint",
    "--restart",
    "--network",
    "-p",
    "--publish",
    "-v",
    "--volume",
    "--mount",
    "--tmpfs",
    "--health-cmd",
    "--cpu-shares",
    "--cpuset-cpus",
    "--cap-add",
    "--cap-drop",
    "--security-opt",
    "--device",
];

/// What `program ARGS` runs inside a container, when it says: for chapters
/// 1 to 3 the command after the options; for `run` (and chapter 6's
/// `create` and `exec`) the command after the image or container. `None`
/// when the line names no command (the demo, or the image's own CMD) or
/// runs no container of the demo image.
pub fn container_argv(program: &str, args: &[String]) -> Option<Vec<String>> {
    let mut rest = args;
    let subcommands: &[&str] = match program {
        "ch04-layers" | "ch05-dockerfile" => &["run"],
        "ch06-containers" | "ch07-network" | "ch08-registry" | "ch09-hardening" | "cratebox" => {
            &["run", "create", "exec"]
        }
        _ => &[],
    };
    if !subcommands.is_empty() {
        if !rest
            .first()
            .is_some_and(|first| subcommands.contains(&first.as_str()))
        {
            return None;
        }
        rest = &rest[1..];
    }
    while let Some(option) = rest.first().filter(|a| a.starts_with('-')) {
        let takes_value = VALUE_OPTIONS.contains(&option.as_str());
        rest = &rest[(if takes_value { 2 } else { 1 }).min(rest.len())..];
    }
    if !subcommands.is_empty() {
        // The image, or the container.
        rest = rest.get(1..).unwrap_or_default();
    }
    (!rest.is_empty()).then(|| rest.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn container_argv_skips_the_options_and_the_image() {
        let cases = [
            (
                "ch02-namespaces",
                &["--hostname", "web", "ps"][..],
                Some(&["ps"][..]),
            ),
            (
                "ch03-cgroups",
                &["-m", "32m", "--stats", "true"][..],
                Some(&["true"][..]),
            ),
            ("ch02-namespaces", &["--userns"][..], None),
            (
                "ch04-layers",
                &["run", "--rm", "site:v1", "cat", "/x"][..],
                Some(&["cat", "/x"][..]),
            ),
            ("ch04-layers", &["run", "--name", "web", "demo"][..], None),
            ("ch05-dockerfile", &["history", "notes-server"][..], None),
            (
                "ch06-containers",
                &[
                    "run",
                    "-d",
                    "--restart",
                    "always",
                    "-e",
                    "A=1",
                    "demo",
                    "sleep",
                    "9",
                ][..],
                Some(&["sleep", "9"][..]),
            ),
            (
                "cratebox",
                &["exec", "-w", "/", "web", "ps"][..],
                Some(&["ps"][..]),
            ),
            ("ch06-containers", &["logs", "-f", "web"][..], None),
        ];
        for (program, args, expected) in cases {
            assert_eq!(
                container_argv(program, &strings(args)),
                expected.map(strings),
                "{program} {args:?}"
            );
        }
    }

    #[test]
    fn dockerfile_lines_give_what_they_run() {
        let text = "FROM demo\nRUN echo one && \\\n    # a comment\n    echo two\nCMD [\"start.sh\"]\nStep 6/9 : RUN ln -s a b\nEXPOSE 80\n";
        assert_eq!(
            dockerfile_scripts(text),
            [
                strings(&["sh", "-c", "echo one &&     echo two"]),
                strings(&["start.sh"]),
                strings(&["sh", "-c", "ln -s a b"]),
            ]
        );
    }

    #[test]
    fn demo_suggestions_are_the_lines_after_try() {
        let script = "echo \"try: ch03-cgroups -m 32m /usr/local/bin/memhog\"\necho \"     ch03-cgroups --cpus 0.5 timeout 2 sh -c 'while :; do :; done'\"\necho \"my pid is $$\"\n";
        let found: Vec<(String, Vec<String>)> = demo_suggestions(script)
            .into_iter()
            .map(|e| (e.program, e.args))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "ch03-cgroups".to_string(),
                    strings(&["-m", "32m", "/usr/local/bin/memhog"])
                ),
                (
                    "ch03-cgroups".to_string(),
                    strings(&[
                        "--cpus",
                        "0.5",
                        "timeout",
                        "2",
                        "sh",
                        "-c",
                        "while :; do :; done"
                    ])
                ),
            ]
        );
    }
}
