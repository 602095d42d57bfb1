//! The ENTRYPOINT/CMD table from the Dockerfile reference, every cell.

use cratebox_dockerfile::{command_line, Form, DEFAULT_SHELL};

fn exec(args: &[&str]) -> Form {
    Form::Exec(args.iter().map(|s| s.to_string()).collect())
}

#[test]
fn entrypoint_and_cmd_combine_as_the_reference_table_says() {
    let shell: Vec<String> = DEFAULT_SHELL.iter().map(|s| s.to_string()).collect();
    let entrypoints = [
        ("no ENTRYPOINT", None),
        (
            "ENTRYPOINT exec_entry p1_entry",
            Some(Form::Shell("exec_entry p1_entry".into())),
        ),
        (
            "ENTRYPOINT [\"exec_entry\", \"p1_entry\"]",
            Some(exec(&["exec_entry", "p1_entry"])),
        ),
    ];
    let cmds = [
        ("no CMD", None),
        (
            "CMD [\"exec_cmd\", \"p1_cmd\"]",
            Some(exec(&["exec_cmd", "p1_cmd"])),
        ),
        (
            "CMD [\"p1_cmd\", \"p2_cmd\"]",
            Some(exec(&["p1_cmd", "p2_cmd"])),
        ),
        (
            "CMD exec_cmd p1_cmd",
            Some(Form::Shell("exec_cmd p1_cmd".into())),
        ),
    ];
    let mut table = Vec::new();
    for (entry_text, entry) in &entrypoints {
        for (cmd_text, cmd) in &cmds {
            let argv = command_line(entry.as_ref(), cmd.as_ref(), &shell);
            table.push(format!("{entry_text} + {cmd_text}\n    => {argv:?}"));
        }
    }
    insta::assert_snapshot!(table.join("\n"));
}

#[test]
fn a_shell_form_uses_the_shell_it_is_given() {
    let bash = vec![
        "/bin/bash".to_string(),
        "-o".into(),
        "pipefail".into(),
        "-c".into(),
    ];
    let argv = command_line(None, Some(&Form::Shell("a | b".into())), &bash);
    assert_eq!(argv, ["/bin/bash", "-o", "pipefail", "-c", "a | b"]);
}

#[test]
fn an_empty_exec_entrypoint_leaves_the_cmd_alone() {
    let argv = command_line(Some(&exec(&[])), Some(&exec(&["ls", "-l"])), &[]);
    assert_eq!(argv, ["ls", "-l"]);
}
