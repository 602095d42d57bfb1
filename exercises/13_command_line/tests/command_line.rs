//! Exercise 13's tests: the Dockerfile reference's ENTRYPOINT/CMD table,
//! cell by cell, the same argv as cratebox's own, and what some real
//! Dockerfiles run.

#[cfg(not(feature = "solution"))]
use ex13_command_line as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/13_command_line.rs"]
mod subject;

use cratebox_dockerfile::{self as real, Form, Instruction, DEFAULT_SHELL};
use subject::{argv, command_line};

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn exec(list: &[&str]) -> Form {
    Form::Exec(words(list))
}

fn shell_form(line: &str) -> Form {
    Form::Shell(line.to_string())
}

/// `["/bin/sh", "-c"]`.
fn sh() -> Vec<String> {
    words(&DEFAULT_SHELL)
}

/// The rows of the reference's table: no ENTRYPOINT, exec form, shell form.
fn entrypoints() -> Vec<(&'static str, Option<Form>)> {
    vec![
        ("no ENTRYPOINT", None),
        (
            r#"ENTRYPOINT ["exec_entry", "p1_entry"]"#,
            Some(exec(&["exec_entry", "p1_entry"])),
        ),
        (
            "ENTRYPOINT exec_entry p1_entry",
            Some(shell_form("exec_entry p1_entry")),
        ),
    ]
}

/// Its columns: no CMD, exec form, shell form.
fn cmds() -> Vec<(&'static str, Option<Form>)> {
    vec![
        ("no CMD", None),
        (
            r#"CMD ["exec_cmd", "p1_cmd"]"#,
            Some(exec(&["exec_cmd", "p1_cmd"])),
        ),
        ("CMD exec_cmd p1_cmd", Some(shell_form("exec_cmd p1_cmd"))),
    ]
}

#[test]
fn the_reference_table_cell_by_cell() {
    let mut text = String::new();
    for (entry_text, entry) in entrypoints() {
        for (cmd_text, cmd) in cmds() {
            let line = command_line(entry.as_ref(), cmd.as_ref(), &sh());
            text += &format!("{entry_text}\n{cmd_text}\n    => {line:?}\n\n");
        }
    }
    insta::assert_snapshot!(text);
}

#[test]
fn agrees_with_cratebox() {
    let bash = words(&["/bin/bash", "-o", "pipefail", "-c"]);
    let mut entries = entrypoints();
    entries.push(("an empty exec ENTRYPOINT", Some(exec(&[]))));
    let mut commands = cmds();
    commands.push(("an empty exec CMD", Some(exec(&[]))));
    for shell in [sh(), bash] {
        for (entry_text, entry) in &entries {
            for (cmd_text, cmd) in &commands {
                assert_eq!(
                    command_line(entry.as_ref(), cmd.as_ref(), &shell),
                    real::command_line(entry.as_ref(), cmd.as_ref(), &shell),
                    "{entry_text} + {cmd_text} with the shell {shell:?}"
                );
            }
        }
    }
}

#[test]
fn one_form_on_its_own() {
    assert_eq!(argv(&exec(&["ls", "-l"]), &sh()), ["ls", "-l"]);
    assert_eq!(
        argv(&shell_form("ls -l | wc -l"), &sh()),
        ["/bin/sh", "-c", "ls -l | wc -l"],
        "the whole line is one argument, for the shell to split"
    );
    let bash = words(&["/bin/bash", "-o", "pipefail", "-c"]);
    assert_eq!(
        argv(&shell_form("a | b"), &bash),
        ["/bin/bash", "-o", "pipefail", "-c", "a | b"]
    );
    assert!(argv(&exec(&[]), &sh()).is_empty());
}

#[test]
fn docker_run_arguments_replace_the_cmd() {
    // `docker run nginx-image -T`: the arguments become the CMD.
    let entry = exec(&["nginx"]);
    let image_cmd = exec(&["-g", "daemon off;"]);
    let run_args = exec(&["-T"]);
    assert_eq!(
        command_line(Some(&entry), Some(&image_cmd), &sh()),
        ["nginx", "-g", "daemon off;"]
    );
    assert_eq!(
        command_line(Some(&entry), Some(&run_args), &sh()),
        ["nginx", "-T"]
    );
    // With a shell-form ENTRYPOINT, they are silently dropped.
    let entry = shell_form("nginx");
    assert_eq!(
        command_line(Some(&entry), Some(&run_args), &sh()),
        ["/bin/sh", "-c", "nginx"]
    );
}

/// Dockerfiles, and the argv an image built from each would run.
const DOCKERFILES: &[(&str, &str)] = &[
    (
        "nginx",
        r#"FROM debian:bookworm-slim
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
"#,
    ),
    (
        "a shell-form CMD",
        "FROM python:3.12\nCMD python3 -m http.server 8000\n",
    ),
    (
        "a shell-form ENTRYPOINT swallows the CMD",
        "FROM alpine\nENTRYPOINT ping -c 3\nCMD [\"localhost\"]\n",
    ),
    (
        "an exec ENTRYPOINT, a shell-form CMD",
        "FROM alpine\nENTRYPOINT [\"env\"]\nCMD echo $HOME\n",
    ),
    (
        "the last CMD wins",
        "FROM alpine\nCMD [\"sh\"]\nCMD [\"echo\", \"second\"]\n",
    ),
    (
        "CMD [] clears the command",
        "FROM alpine\nCMD [\"sh\"]\nCMD []\n",
    ),
    (
        "only the last stage counts",
        r#"FROM golang:1.22 AS build
CMD ["go", "version"]
FROM alpine
COPY --from=build /go/bin/app /app
ENTRYPOINT ["/app"]
CMD ["--port", "8080"]
"#,
    ),
];

/// The last ENTRYPOINT and the last CMD of the last stage.
fn commands_of(file: &real::Dockerfile) -> (Option<&Form>, Option<&Form>) {
    let (mut entry, mut cmd) = (None, None);
    let last = file.stages.last().expect("a Dockerfile has a stage");
    for step in &last.steps {
        match &step.instruction {
            Instruction::Entrypoint(form) => entry = Some(form),
            Instruction::Cmd(form) => cmd = Some(form),
            _ => {}
        }
    }
    (entry, cmd)
}

#[test]
fn what_some_dockerfiles_run() {
    let mut text = String::new();
    for (title, source) in DOCKERFILES {
        let file = real::parse(source).expect("the Dockerfile parses");
        let (entry, cmd) = commands_of(&file);
        let line = command_line(entry, cmd, &sh());
        assert_eq!(line, real::command_line(entry, cmd, &sh()), "{title}");
        text += &format!("{title}:\n{source}    => {line:?}\n\n");
    }
    insta::assert_snapshot!(text);
}
