//! From logical lines to stages.
//!
//! The second pass: parse each logical line into an instruction, then
//! group them. A `FROM` opens a stage and every step after it belongs to
//! that stage until the next `FROM`. Before the first `FROM` only `ARG` may
//! appear; those "global" ARGs exist so that a FROM line can be
//! parameterised (`FROM alpine:$VERSION`).

use crate::ast::{Dockerfile, Instruction, Stage, Step};
use crate::error::{ParseError, ParseErrorKind};
use crate::instruction::{parse_line, trigger, Parsed};
use crate::lexer::lex;

// ANCHOR: parse
/// Parse the text of a Dockerfile into its stages.
///
/// Pure: it reads no files and expands no variables. The first error stops
/// the parse, and says where it is and what was expected there.
// ANCHOR: parse_stages
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let lexed = lex(text)?;
    let mut global_args = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();

    for line in &lexed.lines {
        let number = line.line();
        match parse_line(line, lexed.escape)? {
            Parsed::From(from) => {
                if let Some(name) = &from.name {
                    let earlier = stages.iter().find(|s| s.from.name.as_ref() == Some(name));
                    if let Some(earlier) = earlier {
                        let kind = ParseErrorKind::DuplicateStage {
                            name: name.clone(),
                            first_line: earlier.line,
                        };
                        return Err(line.error(0, kind));
                    }
                }
                stages.push(Stage {
                    line: number,
                    from,
                    steps: Vec::new(),
                });
            }
            Parsed::Step(instruction) => match (stages.last_mut(), instruction) {
                (Some(stage), instruction) => stage.steps.push(Step {
                    line: number,
                    instruction,
                }),
                (None, Instruction::Arg(args)) => {
                    global_args.extend(args.into_iter().map(|a| (number, a)));
                }
                (None, other) => {
                    return Err(line.error(0, ParseErrorKind::BeforeFrom(name_of(&other))));
                }
            },
        }
    }
    // ANCHOR_END: parse_stages

    if stages.is_empty() {
        return Err(ParseError {
            line: lexed.lines.last().map_or(1, |l| l.line()),
            column: 1,
            kind: ParseErrorKind::NoFrom,
        });
    }
    Ok(Dockerfile {
        escape: lexed.escape,
        global_args,
        stages,
    })
}
// ANCHOR_END: parse
/// Parse an ONBUILD trigger, as an image config's `OnBuild` list stores it
/// (`"RUN echo hi"`), back into its instruction.
///
/// A build calls this at `FROM`, for each trigger of the base image, and
/// runs the results before the stage's own steps. It reads the text as
/// docker does, as a Dockerfile of one instruction, and refuses what
/// `ONBUILD` refuses (`ONBUILD`, `FROM`, `MAINTAINER`): an image made
/// elsewhere may hold anything. Lines and columns in its errors count in
/// the trigger's text.
pub fn parse_trigger(text: &str) -> Result<Instruction, ParseError> {
    let lexed = lex(text)?;
    match lexed.lines.as_slice() {
        [line] => trigger(line, lexed.escape),
        lines => Err(ParseError {
            line: lines.get(1).map_or(1, |l| l.line()),
            column: 1,
            kind: ParseErrorKind::TriggerCount(lines.len()),
        }),
    }
}

/// The keyword that wrote `instruction`, for messages.
pub(crate) fn name_of(instruction: &Instruction) -> &'static str {
    match instruction {
        Instruction::Run(_) => "RUN",
        Instruction::Cmd(_) => "CMD",
        Instruction::Entrypoint(_) => "ENTRYPOINT",
        Instruction::Copy(_) => "COPY",
        Instruction::Add(_) => "ADD",
        Instruction::Env(_) => "ENV",
        Instruction::Arg(_) => "ARG",
        Instruction::Workdir(_) => "WORKDIR",
        Instruction::User(_) => "USER",
        Instruction::Expose(_) => "EXPOSE",
        Instruction::Label(_) => "LABEL",
        Instruction::Maintainer(_) => "MAINTAINER",
        Instruction::Volume(_) => "VOLUME",
        Instruction::Shell(_) => "SHELL",
        Instruction::StopSignal(_) => "STOPSIGNAL",
        Instruction::Onbuild(_) => "ONBUILD",
        Instruction::Healthcheck(_) => "HEALTHCHECK",
    }
}
