//! ONBUILD: the trigger is kept as text for the image and parsed now, and
//! `parse_trigger` reads the text back the same way in the later build.

use cratebox_dockerfile::{parse, parse_trigger, Form, Instruction, Trigger};

/// Every trigger in `text`, in order.
fn triggers(text: &str) -> Vec<Trigger> {
    let file = parse(text).unwrap_or_else(|e| panic!("{text:?} does not parse: {e}"));
    file.stages
        .into_iter()
        .flat_map(|stage| stage.steps)
        .filter_map(|step| match step.instruction {
            Instruction::Onbuild(trigger) => Some(trigger),
            _ => None,
        })
        .collect()
}

#[test]
fn onbuild_keeps_the_trigger_text_and_the_instruction() {
    insta::assert_debug_snapshot!(triggers(
        "FROM python:3.12\n\
         ONBUILD COPY requirements.txt /app/\n\
         onbuild RUN pip install \\\n\
         \x20   -r /app/requirements.txt\n\
         ONBUILD ENV MODE=\"build step\"\n\
         ONBUILD CMD [\"python\", \"app.py\"]\n"
    ));
}

#[test]
fn parse_trigger_reads_back_what_onbuild_parsed() {
    let text = "FROM alpine\n\
                ONBUILD RUN [\"echo\", \"test\"]\n\
                ONBUILD RUN echo test\n\
                ONBUILD COPY --chown=1:1 . /\n\
                ONBUILD ARG VERSION=1 \\\n  OTHER\n\
                ONBUILD LABEL a=\"x y\" b='$z'\n";
    let found = triggers(text);
    assert_eq!(found.len(), 5);
    for trigger in found {
        assert_eq!(
            parse_trigger(&trigger.text),
            Ok(*trigger.instruction.clone()),
            "{trigger:?}"
        );
    }
}

#[test]
fn parse_trigger_refuses_what_onbuild_refuses() {
    let report: Vec<String> = [
        "FROM alpine",
        "ONBUILD RUN make",
        "maintainer someone",
        "HEALTHCHECK CONNECT TCP 7000",
        "RUN <<EOF",
        "RUN a\nRUN b",
        "",
        "# only a comment",
        "COPY one",
    ]
    .iter()
    .map(|text| match parse_trigger(text) {
        Ok(instruction) => format!("{text:?}: unexpectedly parsed: {instruction:?}"),
        Err(e) => format!("{text:?}:\n    {e}"),
    })
    .collect();
    insta::assert_snapshot!(report.join("\n"));
}

#[test]
fn a_trigger_is_read_with_the_default_escape_whatever_the_file_says() {
    // Docker parses a stored trigger as a Dockerfile of its own, without the
    // `# escape=` of the file that wrote it. A trigger that only works with
    // the backtick is refused now rather than in every later build.
    let backtick = "# escape=`\nFROM alpine\nONBUILD ENV GREETING=hello` world\n";
    let error = parse(backtick).err().map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some("Dockerfile:3:29: expected name=value, found \"world\"")
    );

    // The backtick still continues the ONBUILD line itself: that is the
    // lexer's work, done before the trigger is cut out.
    let continued = "# escape=`\nFROM alpine\nONBUILD RUN echo `\n  hi\n";
    let found = triggers(continued);
    assert_eq!(
        found.first().map(|t| t.instruction.as_ref()),
        Some(&Instruction::Run(Form::Shell("echo   hi".into())))
    );
}
