//! Instructions as text: for `Step N/M : ...` lines, history entries and
//! cache keys.
//!
//! The same function renders an instruction as written (for the step line)
//! and after its variables are expanded (for the cache key), so that the
//! key changes exactly when what the step will do changes.

use cratebox_dockerfile::{Files, Form, Instruction};

/// The instruction, one line, in Dockerfile syntax.
pub fn render(instruction: &Instruction) -> String {
    match instruction {
        Instruction::Run(form) => format!("RUN {}", form_text(form)),
        Instruction::Cmd(form) => format!("CMD {}", form_text(form)),
        Instruction::Entrypoint(form) => format!("ENTRYPOINT {}", form_text(form)),
        Instruction::Copy(files) => format!("COPY {}", files_text(files)),
        Instruction::Add(files) => format!("ADD {}", files_text(files)),
        Instruction::Env(pairs) => format!("ENV {}", pairs_text(pairs)),
        Instruction::Label(pairs) => format!("LABEL {}", pairs_text(pairs)),
        Instruction::Arg(args) => {
            let words: Vec<String> = args
                .iter()
                .map(|arg| match &arg.default {
                    Some(default) => format!("{}={default}", arg.name),
                    None => arg.name.clone(),
                })
                .collect();
            format!("ARG {}", words.join(" "))
        }
        Instruction::Workdir(dir) => format!("WORKDIR {dir}"),
        Instruction::User(user) => format!("USER {user}"),
        Instruction::Maintainer(name) => format!("MAINTAINER {name}"),
        Instruction::StopSignal(signal) => format!("STOPSIGNAL {signal}"),
        Instruction::Expose(ports) => format!("EXPOSE {}", ports.join(" ")),
        Instruction::Volume(paths) => format!("VOLUME {}", paths.join(" ")),
        Instruction::Shell(argv) => format!("SHELL {}", json(argv)),
        // The trigger's text as written, which is what the image keeps.
        Instruction::Onbuild(trigger) => format!("ONBUILD {}", trigger.text),
        Instruction::Healthcheck(check) => {
            let mut text = String::from("HEALTHCHECK");
            for (flag, value) in [
                ("interval", &check.interval),
                ("timeout", &check.timeout),
                ("start-period", &check.start_period),
                ("start-interval", &check.start_interval),
                ("retries", &check.retries),
            ] {
                if let Some(value) = value {
                    text.push_str(&format!(" --{flag}={value}"));
                }
            }
            match &check.test {
                Some(form) => format!("{text} CMD {}", form_text(form)),
                None => format!("{text} NONE"),
            }
        }
    }
}

fn form_text(form: &Form) -> String {
    match form {
        Form::Shell(line) => line.clone(),
        Form::Exec(argv) => json(argv),
    }
}

fn files_text(files: &Files) -> String {
    let mut words = Vec::new();
    for (flag, value) in [
        ("from", &files.from),
        ("chown", &files.chown),
        ("chmod", &files.chmod),
    ] {
        if let Some(value) = value {
            words.push(format!("--{flag}={value}"));
        }
    }
    words.extend(files.sources.iter().cloned());
    words.push(files.destination.clone());
    words.join(" ")
}

fn pairs_text(pairs: &[(String, String)]) -> String {
    let words: Vec<String> = pairs
        .iter()
        .map(|(key, value)| {
            // As written, a value with blanks is already quoted; expanded,
            // it is quoted here so that the text stays unambiguous.
            let quoted = value.starts_with(['"', '\'']);
            if value.is_empty() || (value.contains(char::is_whitespace) && !quoted) {
                format!("{key}={}", json(&value))
            } else {
                format!("{key}={value}")
            }
        })
        .collect();
    words.join(" ")
}

/// A JSON string or array, as exec forms are written.
pub fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
