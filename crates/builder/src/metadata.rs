//! The pure part of a step: expanding its variables, the text of its
//! cache key, where WORKDIR leads, and how a metadata instruction changes
//! the image config. No files are read and nothing runs, so all of it is
//! tested with snapshots, without root.

use serde_json::json;

use cratebox_dockerfile::{expand, Files, Instruction, Port};
use cratebox_image::new_image::NewImage;

use crate::error::StepError;
use crate::render::{json, render};
use crate::stages::Stage;
use crate::tree::clean_in_root;

/// Where docker keeps an image's ONBUILD triggers: `config.OnBuild`, a
/// list of instruction texts. (Not in the OCI spec; the config keeps it as
/// JSON all the same.)
pub const ONBUILD_FIELD: &str = "OnBuild";

/// The triggers of `image`, in order, and the image without them: a
/// trigger runs in the build that uses the image, and only there, so what
/// that build makes does not carry it on.
pub fn take_triggers(image: &mut NewImage) -> Vec<String> {
    let triggers = image
        .get(ONBUILD_FIELD)
        .and_then(|v| v.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    image.runtime().remove(ONBUILD_FIELD);
    triggers
}

// ANCHOR: expand_instruction
/// The instruction with its variables expanded, for the instructions the
/// reference says expand (RUN, CMD and ENTRYPOINT do not: a shell does
/// that when they run). Every word sees the values from *before* this
/// instruction: `ENV A=1 B=$A` gives B the old A.
pub fn expand_instruction(
    instruction: &Instruction,
    stage: &Stage,
    escape: char,
) -> Result<Instruction, StepError> {
    let word = |text: &str| {
        expand(text, &|name| stage.var(name), escape).map_err(|source| StepError::Expand {
            text: text.to_string(),
            source,
        })
    };
    let words = |list: &[String]| list.iter().map(|w| word(w)).collect::<Result<Vec<_>, _>>();
    let pairs = |list: &[(String, String)]| {
        list.iter()
            .map(|(k, v)| Ok((word(k)?, word(v)?)))
            .collect::<Result<Vec<_>, StepError>>()
    };
    let files = |f: &Files| -> Result<Files, StepError> {
        Ok(Files {
            from: f.from.as_deref().map(word).transpose()?,
            chown: f.chown.as_deref().map(word).transpose()?,
            chmod: f.chmod.as_deref().map(word).transpose()?,
            sources: words(&f.sources)?,
            destination: word(&f.destination)?,
        })
    };
    // ANCHOR: expand_which
    Ok(match instruction {
        Instruction::Copy(f) => Instruction::Copy(files(f)?),
        Instruction::Add(f) => Instruction::Add(files(f)?),
        Instruction::Env(list) => Instruction::Env(pairs(list)?),
        Instruction::Label(list) => Instruction::Label(pairs(list)?),
        Instruction::Workdir(dir) => Instruction::Workdir(word(dir)?),
        Instruction::User(user) => Instruction::User(word(user)?),
        Instruction::StopSignal(signal) => Instruction::StopSignal(word(signal)?),
        Instruction::Expose(ports) => Instruction::Expose(words(ports)?),
        Instruction::Volume(paths) => Instruction::Volume(words(paths)?),
        other => other.clone(),
    })
    // ANCHOR_END: expand_which
}
// ANCHOR_END: expand_instruction

// ANCHOR: key_text
/// What the cache key says of an (expanded) instruction besides its
/// parent image: mostly the instruction as written, plus what else decides
/// its result. (A COPY's sources are summed separately.)
pub fn key_text(instruction: &Instruction, stage: &Stage) -> String {
    match instruction {
        // A RUN sees the ARGs as environment variables: their values are
        // part of what it does.
        Instruction::Run(form) => {
            let args: Vec<String> = stage
                .arg_env()
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("RUN {} {}", json(&args), json(&stage.argv(form)))
        }
        // The shell in force decides what a shell form becomes.
        Instruction::Cmd(form) => format!("CMD {}", json(&stage.argv(form))),
        // And whether this stage set a CMD decides if ENTRYPOINT keeps it.
        Instruction::Entrypoint(form) => format!(
            "ENTRYPOINT {} keep-cmd={}",
            json(&stage.argv(form)),
            stage.cmd_set
        ),
        // Pairs as JSON: written out as text, `A='"x' B=y` and `A='"x B=y'`
        // would look the same.
        Instruction::Env(pairs) => format!("ENV {}", json(pairs)),
        Instruction::Label(pairs) => format!("LABEL {}", json(pairs)),
        other => render(other),
    }
}
// ANCHOR_END: key_text

/// WORKDIR's directory: absolute, or relative to the one before; `..`
/// stops at `/`.
pub fn workdir(image: &NewImage, dir: &str) -> String {
    let base = image.get_str("WorkingDir").unwrap_or("/");
    let joined = if dir.starts_with('/') {
        dir.to_string()
    } else {
        format!("{base}/{dir}")
    };
    format!("/{}", clean_in_root(&joined).display())
}

// ANCHOR: apply
/// A metadata instruction's change to the image config. Returns false for
/// an instruction that is not one (RUN, COPY, ...), changing nothing.
// ANCHOR: apply_config
pub fn apply(
    image: &mut NewImage,
    stage: &Stage,
    instruction: &Instruction,
) -> Result<bool, StepError> {
    match instruction {
        Instruction::Env(pairs) => {
            for (name, value) in pairs {
                image.set_env(name, value);
            }
        }
        Instruction::Label(pairs) => {
            for (key, value) in pairs {
                image.insert("Labels", key, json!(value));
            }
        }
        // MAINTAINER is kept as the image's author, as docker does.
        Instruction::Maintainer(name) => image.config["author"] = json!(name),
        Instruction::Expose(words) => {
            for word in words {
                let port = Port::parse(word)?;
                for number in port.first..=port.last {
                    image.insert(
                        "ExposedPorts",
                        &format!("{number}/{}", port.protocol),
                        json!({}),
                    );
                }
            }
        }
        Instruction::Volume(paths) => {
            for path in paths {
                image.insert("Volumes", path, json!({}));
            }
        }
        // ANCHOR_END: apply_config
        Instruction::User(user) => {
            image.runtime().insert("User".into(), json!(user));
        }
        Instruction::StopSignal(signal) => {
            image.runtime().insert("StopSignal".into(), json!(signal));
        }
        Instruction::Cmd(form) => {
            image
                .runtime()
                .insert("Cmd".into(), json!(stage.argv(form)));
        }
        Instruction::Entrypoint(form) => {
            image
                .runtime()
                .insert("Entrypoint".into(), json!(stage.argv(form)));
            // A CMD from the base image was meant for the base's program.
            if !stage.cmd_set {
                image.runtime().remove("Cmd");
            }
        }
        Instruction::Workdir(dir) => {
            let dir = workdir(image, dir);
            image.runtime().insert("WorkingDir".into(), json!(dir));
        }
        // docker's `config.Healthcheck`, times in nanoseconds; NONE is a
        // test of ["NONE"], which turns off a base image's check.
        Instruction::Healthcheck(check) => {
            let duration = |flag: &'static str, value: &Option<String>| -> Result<u64, StepError> {
                match value {
                    None => Ok(0),
                    Some(text) => humantime::parse_duration(text)
                        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
                        .map_err(|_| StepError::Healthcheck {
                            flag,
                            value: text.clone(),
                            why: "a duration such as 30s, 500ms or 1m30s",
                        }),
                }
            };
            let retries = match &check.retries {
                None => 0,
                Some(text) => text.parse::<u32>().map_err(|_| StepError::Healthcheck {
                    flag: "retries",
                    value: text.clone(),
                    why: "a number of failures",
                })?,
            };
            let test = match &check.test {
                None => json!(["NONE"]),
                Some(cratebox_dockerfile::Form::Exec(argv)) => {
                    let mut test = vec!["CMD".to_string()];
                    test.extend(argv.iter().cloned());
                    json!(test)
                }
                Some(cratebox_dockerfile::Form::Shell(line)) => json!(["CMD-SHELL", line]),
            };
            image.runtime().insert(
                "Healthcheck".into(),
                json!({
                    "Test": test,
                    "Interval": duration("interval", &check.interval)?,
                    "Timeout": duration("timeout", &check.timeout)?,
                    "StartPeriod": duration("start-period", &check.start_period)?,
                    "StartInterval": duration("start-interval", &check.start_interval)?,
                    "Retries": retries,
                }),
            );
        }
        // A trigger is kept as written, unexpanded: it is read and run by
        // the build that uses this image in its FROM, with that build's
        // variables.
        Instruction::Onbuild(trigger) => {
            let list = image
                .runtime()
                .entry(ONBUILD_FIELD)
                .or_insert_with(|| json!([]));
            cratebox_image::build::push(list, json!(trigger.text));
        }
        _ => return Ok(false),
    }
    Ok(true)
}
// ANCHOR_END: apply

#[cfg(test)]
mod tests {
    use super::*;
    use cratebox_dockerfile::parse;

    /// Each step of `dockerfile`'s only stage: its key text, then the
    /// runtime config after applying it (if it is a metadata step).
    fn walk(dockerfile: &str) -> String {
        let file = parse(dockerfile).expect("the test's Dockerfile parses");
        let mut stage = Stage::new(None, NewImage::scratch());
        let mut out = String::new();
        for step in &file.stages[0].steps {
            if let Instruction::Arg(args) = &step.instruction {
                for arg in args {
                    stage.args.insert(arg.name.clone(), arg.default.clone());
                }
                continue;
            }
            let expanded = match expand_instruction(&step.instruction, &stage, file.escape) {
                Ok(expanded) => expanded,
                Err(error) => {
                    out.push_str(&format!(
                        "{}\n  error: {error}\n",
                        render(&step.instruction)
                    ));
                    continue;
                }
            };
            out.push_str(&format!(
                "{}\n  key: {}\n",
                render(&expanded),
                key_text(&expanded, &stage)
            ));
            let mut next = stage.image.clone();
            match apply(&mut next, &stage, &expanded) {
                Ok(true) => {
                    out.push_str(&format!("  config: {}\n", json(&next.config["config"])));
                    if matches!(expanded, Instruction::Cmd(_)) {
                        stage.cmd_set = true;
                    }
                    stage.image = next;
                }
                Ok(false) => out.push_str("  (not a metadata step)\n"),
                Err(error) => out.push_str(&format!("  error: {error}\n")),
            }
        }
        out
    }

    #[test]
    fn metadata_steps_change_the_config_and_their_keys_say_what_decides_them() {
        insta::assert_snapshot!(walk(
            r#"FROM scratch
ARG VERSION=1.2
ENV APP=/opt/app PATH=/usr/bin
ENV HOME=$APP/home
LABEL version=$VERSION "two words"="a b"
WORKDIR $APP
WORKDIR ../../../srv/./data
USER nobody:nogroup
EXPOSE 8080 7000-7002/udp
VOLUME /data
STOPSIGNAL SIGINT
MAINTAINER someone@example.com
CMD ["serve", "--port", "8080"]
ENTRYPOINT /bin/entry
RUN echo $VERSION
COPY --chown=$APP a b/
ONBUILD RUN echo $APP
ONBUILD COPY . /src
ARG P=99999
EXPOSE $P
"#
        ));
    }

    #[test]
    fn healthchecks_go_in_the_config_as_docker_keeps_them() {
        insta::assert_snapshot!(walk(
            "FROM scratch\nHEALTHCHECK --interval=5s --timeout=3s --retries=2 CMD test -e /ok\nHEALTHCHECK CMD [\"/bin/check\", \"--quiet\"]\nHEALTHCHECK NONE\n"
        ));
    }

    #[test]
    fn entrypoint_drops_an_inherited_cmd_but_keeps_its_own_stages() {
        insta::assert_snapshot!(walk(
            "FROM scratch\nENTRYPOINT [\"a\"]\nCMD [\"b\"]\nENTRYPOINT [\"c\"]\n"
        ));
    }

    #[test]
    fn workdir_is_absolute_relative_and_clamped_at_the_root() {
        let mut image = NewImage::scratch();
        let cases: Vec<String> = ["/app", "sub", "../..", "../../../x/./y", "/"]
            .iter()
            .map(|dir| {
                let next = workdir(&image, dir);
                image.runtime().insert("WorkingDir".into(), json!(next));
                format!("WORKDIR {dir} -> {next}")
            })
            .collect();
        insta::assert_snapshot!(cases.join("\n"), @r"
        WORKDIR /app -> /app
        WORKDIR sub -> /app/sub
        WORKDIR ../.. -> /
        WORKDIR ../../../x/./y -> /x/y
        WORKDIR / -> /
        ");
    }

    #[test]
    fn triggers_are_taken_in_order_and_leave_the_image() {
        let mut image = NewImage::scratch();
        image
            .runtime()
            .insert(ONBUILD_FIELD.into(), json!(["RUN echo one", "COPY . /src"]));
        assert_eq!(take_triggers(&mut image), ["RUN echo one", "COPY . /src"]);
        assert!(image.get(ONBUILD_FIELD).is_none());
        assert!(take_triggers(&mut image).is_empty());
    }
}
