//! From one logical line to one instruction.
//!
//! Every line is `KEYWORD arguments`. The keyword is case-insensitive
//! (`from` works, UPPERCASE is the convention). Then come optional
//! `--flags`, checked against the ones the instruction takes, and the
//! arguments, split the way that instruction wants (see [`crate::words`]).
//!
//! Nothing here expands variables: that is the builder's job, since it
//! alone knows their values.

use crate::ast::{Arg, Files, Form, From, Healthcheck, Instruction, Trigger};
use crate::error::{ParseError, ParseErrorKind as Kind};
use crate::lexer::{LogicalLine, DEFAULT_ESCAPE};
use crate::port::Port;
use crate::words::{self, Flag, JsonArray};

/// A parsed line: FROM starts a stage, everything else is a step in one.
#[derive(Debug)]
pub(crate) enum Parsed {
    From(From),
    Step(Instruction),
}

/// The arguments of one line, with what is needed to report errors.
struct Args<'a> {
    /// The instruction's canonical (uppercase) name.
    name: &'static str,
    line: &'a LogicalLine,
    /// The arguments after the flags, trimmed.
    text: &'a str,
    /// Byte offset of `text` in the logical line.
    offset: usize,
    /// The file's escape character, which protects blanks and quotes.
    escape: char,
}

impl Args<'_> {
    fn error(&self, offset: usize, kind: Kind) -> ParseError {
        self.line.error(offset, kind)
    }

    /// "NAME needs `expected`", pointing where the arguments start.
    fn missing(&self, expected: &'static str) -> ParseError {
        self.error(
            self.offset,
            Kind::Missing {
                instruction: self.name,
                expected,
            },
        )
    }

    /// The whole argument text as one string, which must not be empty.
    fn one_string(&self, expected: &'static str) -> Result<String, ParseError> {
        if self.text.is_empty() {
            return Err(self.missing(expected));
        }
        Ok(self.text.to_string())
    }
}

/// The instructions this parser knows, with the flags each takes.
const INSTRUCTIONS: &[(&str, &[&str])] = &[
    ("FROM", &["platform"]),
    ("RUN", &[]),
    ("CMD", &[]),
    ("ENTRYPOINT", &[]),
    ("COPY", &["from", "chown", "chmod"]),
    ("ADD", &["chown", "chmod"]),
    ("ENV", &[]),
    ("ARG", &[]),
    ("WORKDIR", &[]),
    ("USER", &[]),
    ("EXPOSE", &[]),
    ("LABEL", &[]),
    ("MAINTAINER", &[]),
    ("VOLUME", &[]),
    ("SHELL", &[]),
    ("STOPSIGNAL", &[]),
    ("ONBUILD", &[]),
    (
        "HEALTHCHECK",
        &[
            "interval",
            "timeout",
            "start-period",
            "start-interval",
            "retries",
        ],
    ),
];

/// Real instructions that cratebox chooses not to build (none, since
/// chapter 6 runs health checks).
const UNSUPPORTED: &[&str] = &[];

/// Docker's flags that cratebox chooses not to implement. They get an error
/// of their own: "RUN does not take the flag --mount" would send the reader
/// looking for a typo that is not there.
const UNSUPPORTED_FLAGS: &[(&str, &[&str])] = &[
    ("RUN", &["mount", "network", "security"]),
    ("COPY", &["link", "parents", "exclude"]),
    ("ADD", &["link", "checksum", "keep-git-dir", "exclude"]),
];

/// Parse one logical line.
pub(crate) fn parse_line(line: &LogicalLine, escape: char) -> Result<Parsed, ParseError> {
    let text = line.text.trim_end();
    let start = text.len() - text.trim_start().len();
    let text = &text[start..];
    let keyword_end = text.find(char::is_whitespace).unwrap_or(text.len());
    let keyword = &text[..keyword_end];
    let upper = keyword.to_ascii_uppercase();

    if let Some(&name) = UNSUPPORTED.iter().find(|&&n| n == upper) {
        return Err(line.error(start, Kind::Unsupported(name)));
    }
    let Some(&(name, allowed)) = INSTRUCTIONS.iter().find(|(n, _)| *n == upper) else {
        return Err(line.error(start, Kind::UnknownInstruction(keyword.to_string())));
    };

    let (flags, offset, rest) = words::flags(&text[keyword_end..], start + keyword_end);
    check_flags(line, name, allowed, &flags)?;
    let args = Args {
        name,
        line,
        text: rest,
        offset,
        escape,
    };

    let flag = |wanted: &str| {
        flags
            .iter()
            .find(|f| f.name == wanted)
            .and_then(|f| f.value)
            .map(str::to_string)
    };

    let instruction = match name {
        "FROM" => return from(&args, flag("platform")).map(Parsed::From),
        "RUN" => {
            let form = command(&args, EmptyExec::Refused)?;
            if let Form::Shell(_) = form {
                refuse_heredoc(&args)?;
            }
            Instruction::Run(form)
        }
        "CMD" => Instruction::Cmd(command(&args, EmptyExec::Allowed)?),
        "ENTRYPOINT" => Instruction::Entrypoint(command(&args, EmptyExec::Allowed)?),
        "COPY" | "ADD" => {
            if words::json_array(args.text) == JsonArray::NotJson {
                refuse_heredoc(&args)?;
            }
            let (sources, destination) = files(&args)?;
            let files = Files {
                from: flag("from"),
                chown: flag("chown"),
                chmod: flag("chmod"),
                sources,
                destination,
            };
            if name == "COPY" {
                Instruction::Copy(files)
            } else {
                Instruction::Add(files)
            }
        }
        "ENV" => Instruction::Env(pairs(&args)?),
        "LABEL" => Instruction::Label(pairs(&args)?),
        "ARG" => Instruction::Arg(arg(&args)?),
        "WORKDIR" => Instruction::Workdir(args.one_string("a directory, e.g. WORKDIR /app")?),
        "USER" => Instruction::User(args.one_string("a user, e.g. USER nobody or USER 1000:1000")?),
        "MAINTAINER" => Instruction::Maintainer(args.one_string("a name")?),
        "EXPOSE" => Instruction::Expose(expose(&args)?),
        "VOLUME" => Instruction::Volume(volume(&args)?),
        "SHELL" => Instruction::Shell(shell(&args)?),
        "STOPSIGNAL" => Instruction::StopSignal(stop_signal(&args)?),
        "ONBUILD" => Instruction::Onbuild(onbuild(&args)?),
        "HEALTHCHECK" => Instruction::Healthcheck(Healthcheck {
            test: healthcheck(&args)?,
            interval: flag("interval"),
            timeout: flag("timeout"),
            start_period: flag("start-period"),
            start_interval: flag("start-interval"),
            retries: flag("retries"),
        }),
        _ => return Err(line.error(start, Kind::UnknownInstruction(keyword.to_string()))),
    };
    Ok(Parsed::Step(instruction))
}

/// Every flag must be one the instruction takes, given once, with a value.
fn check_flags(
    line: &LogicalLine,
    instruction: &'static str,
    allowed: &[&str],
    flags: &[Flag<'_>],
) -> Result<(), ParseError> {
    for (i, flag) in flags.iter().enumerate() {
        if !allowed.contains(&flag.name) {
            let flag_name = flag.name.to_string();
            let docker_has_it = UNSUPPORTED_FLAGS
                .iter()
                .any(|(n, f)| *n == instruction && f.contains(&flag.name));
            let kind = if docker_has_it {
                Kind::UnsupportedFlag {
                    instruction,
                    flag: flag_name,
                }
            } else {
                Kind::UnknownFlag {
                    instruction,
                    flag: flag_name,
                }
            };
            return Err(line.error(flag.offset, kind));
        }
        if !matches!(flag.value, Some(v) if !v.is_empty()) {
            return Err(line.error(flag.offset, Kind::FlagNeedsValue(flag.name.to_string())));
        }
        if flags[..i].iter().any(|f| f.name == flag.name) {
            return Err(line.error(flag.offset, Kind::DuplicateFlag(flag.name.to_string())));
        }
    }
    Ok(())
}

/// `FROM image [AS name]`.
fn from(args: &Args<'_>, platform: Option<String>) -> Result<From, ParseError> {
    let fields = words::fields(args.text, args.offset);
    let (image, name) = match fields.as_slice() {
        [(_, image)] => (image, None),
        [(_, image), (_, as_), (at, name)] if as_.eq_ignore_ascii_case("as") => {
            let name = name.to_lowercase();
            if !valid_stage_name(&name) {
                return Err(args.error(*at, Kind::InvalidStageName(name)));
            }
            (image, Some(name))
        }
        _ => return Err(args.error(args.offset, Kind::FromArguments)),
    };
    Ok(From {
        image: image.to_string(),
        name,
        platform,
    })
}

/// Stage names are used in `--from=` and may not look like anything else.
fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

/// RUN, CMD and ENTRYPOINT: exec form if the text is a JSON array of
/// strings, else shell form. `CMD []` is allowed (it clears the command);
/// `RUN []` has nothing to run.
/// Whether `[]` is a command: not for RUN (nothing to run), but for CMD
/// and ENTRYPOINT, where it clears what the base image set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EmptyExec {
    Refused,
    Allowed,
}

fn command(args: &Args<'_>, empty: EmptyExec) -> Result<Form, ParseError> {
    let expected = "a command, in shell form (echo hi) or exec form ([\"echo\", \"hi\"])";
    match words::json_array(args.text) {
        JsonArray::Strings(list) if list.is_empty() && empty == EmptyExec::Refused => {
            Err(args.missing(expected))
        }
        JsonArray::Strings(list) => Ok(Form::Exec(list)),
        JsonArray::NotStrings => Err(args.error(args.offset, Kind::NotStringArray(args.name))),
        JsonArray::NotJson if args.text.is_empty() => Err(args.missing(expected)),
        JsonArray::NotJson => Ok(Form::Shell(args.text.to_string())),
    }
}

/// RUN, COPY and ADD in shell form may not start a heredoc (`RUN <<EOF`):
/// its body is on the following lines, which would otherwise be read as
/// instructions and give a baffling error about the first of them.
fn refuse_heredoc(args: &Args<'_>) -> Result<(), ParseError> {
    match words::heredoc(args.text, args.offset) {
        Some((at, word)) => Err(args.error(
            at,
            Kind::Heredoc {
                word: word.to_string(),
            },
        )),
        None => Ok(()),
    }
}

/// A JSON array or a blank-separated list (COPY, ADD, VOLUME).
fn list(args: &Args<'_>) -> Result<Vec<String>, ParseError> {
    match words::json_array(args.text) {
        JsonArray::Strings(list) => Ok(list),
        JsonArray::NotStrings => Err(args.error(args.offset, Kind::NotStringArray(args.name))),
        JsonArray::NotJson => Ok(words::fields(args.text, args.offset)
            .into_iter()
            .map(|(_, w)| w.to_string())
            .collect()),
    }
}

/// COPY and ADD: sources, then the destination last.
fn files(args: &Args<'_>) -> Result<(Vec<String>, String), ParseError> {
    let mut list = list(args)?;
    let destination = match list.pop() {
        Some(destination) if !list.is_empty() => destination,
        _ => return Err(args.missing("at least a source and a destination")),
    };
    Ok((list, destination))
}

/// ENV and LABEL: `k=v k2="v 2"`, or the legacy `k rest of the line`.
fn pairs(args: &Args<'_>) -> Result<Vec<(String, String)>, ParseError> {
    let words = words::quoted_words(args.text, args.offset, args.escape);
    let Some((_, first)) = words.first() else {
        return Err(args.missing(if args.name == "LABEL" {
            "name=value pairs, e.g. LABEL version=1.0"
        } else {
            "name=value pairs, e.g. ENV MODE=prod"
        }));
    };
    if !first.contains('=') {
        // Legacy form: one name, and the rest of the line, blanks and
        // all, is its value.
        let split = args
            .text
            .find(char::is_whitespace)
            .unwrap_or(args.text.len());
        let value = args.text[split..].trim_start();
        if value.is_empty() {
            return Err(args.missing("a value: write name=value, or name followed by the value"));
        }
        return Ok(vec![(args.text[..split].to_string(), value.to_string())]);
    }
    words
        .into_iter()
        .map(|(at, word)| match word.split_once('=') {
            None => Err(args.error(at, Kind::ExpectedNameValue(word.clone()))),
            Some(("", _)) => Err(args.error(at, Kind::EmptyName(args.name))),
            Some((name, value)) => Ok((name.to_string(), value.to_string())),
        })
        .collect()
}

/// `ARG name[=default] ...`.
fn arg(args: &Args<'_>) -> Result<Vec<Arg>, ParseError> {
    let words = words::quoted_words(args.text, args.offset, args.escape);
    if words.is_empty() {
        return Err(args.missing("a name, e.g. ARG VERSION or ARG VERSION=1.0"));
    }
    words
        .into_iter()
        .map(|(at, word)| {
            let (name, default) = match word.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (word.as_str(), None),
            };
            if name.is_empty() {
                return Err(args.error(at, Kind::EmptyName("ARG")));
            }
            Ok(Arg {
                name: name.to_string(),
                default,
            })
        })
        .collect()
}

/// `EXPOSE 80 53/udp`: literal words are checked now, `$PORT` later.
fn expose(args: &Args<'_>) -> Result<Vec<String>, ParseError> {
    let fields = words::fields(args.text, args.offset);
    if fields.is_empty() {
        return Err(args.missing("at least one port, e.g. EXPOSE 8080 or EXPOSE 53/udp"));
    }
    for &(at, word) in &fields {
        if !word.contains('$') {
            Port::parse(word).map_err(|e| args.error(at, e.into()))?;
        }
    }
    Ok(fields.into_iter().map(|(_, w)| w.to_string()).collect())
}

/// `VOLUME /data` or `VOLUME ["/data", "/logs"]`.
fn volume(args: &Args<'_>) -> Result<Vec<String>, ParseError> {
    let paths = list(args)?;
    if paths.is_empty() {
        return Err(args.missing("at least one path, e.g. VOLUME /data"));
    }
    if paths.iter().any(String::is_empty) {
        return Err(args.error(args.offset, Kind::EmptyVolume));
    }
    Ok(paths)
}

/// `SHELL ["/bin/bash", "-c"]`: only JSON, since there is no shell yet to
/// run a shell form through.
fn shell(args: &Args<'_>) -> Result<Vec<String>, ParseError> {
    match words::json_array(args.text) {
        JsonArray::Strings(list) if list.is_empty() => {
            Err(args.missing("at least the shell program"))
        }
        JsonArray::Strings(list) => Ok(list),
        JsonArray::NotStrings | JsonArray::NotJson => {
            Err(args.error(args.offset, Kind::ShellNotJson))
        }
    }
}

/// `STOPSIGNAL SIGTERM` or `STOPSIGNAL 15`: one word.
fn stop_signal(args: &Args<'_>) -> Result<String, ParseError> {
    match words::fields(args.text, args.offset).as_slice() {
        [] => Err(args.missing("a signal, e.g. STOPSIGNAL SIGINT")),
        [(_, signal)] => Ok(signal.to_string()),
        [_, (at, _), ..] => Err(args.error(
            *at,
            Kind::TooMany {
                instruction: "STOPSIGNAL",
                expected: "one signal",
            },
        )),
    }
}

/// `ONBUILD RUN make`: the trigger is parsed now, the way the later build
/// will parse it, and kept with its text.
/// `HEALTHCHECK NONE` or `HEALTHCHECK CMD command` (either form).
fn healthcheck(args: &Args<'_>) -> Result<Option<Form>, ParseError> {
    const EXPECTED: &str =
        "CMD and a command, or NONE, e.g. HEALTHCHECK CMD curl -f http://localhost/";
    let word_end = args
        .text
        .find(char::is_whitespace)
        .unwrap_or(args.text.len());
    let (word, rest) = args.text.split_at(word_end);
    match word.to_ascii_uppercase().as_str() {
        "NONE" if rest.trim().is_empty() => Ok(None),
        "CMD" => {
            let rest_trimmed = rest.trim_start();
            let command_args = Args {
                name: args.name,
                line: args.line,
                text: rest_trimmed,
                offset: args.offset + word_end + (rest.len() - rest_trimmed.len()),
                escape: args.escape,
            };
            Ok(Some(command(&command_args, EmptyExec::Refused)?))
        }
        _ => Err(args.missing(EXPECTED)),
    }
}

fn onbuild(args: &Args<'_>) -> Result<Trigger, ParseError> {
    if args.text.is_empty() {
        return Err(args
            .missing("an instruction to run in builds FROM this image, e.g. ONBUILD COPY . /app"));
    }
    let instruction = trigger(&args.line.tail(args.offset), DEFAULT_ESCAPE)?;
    Ok(Trigger {
        text: args.text.to_string(),
        instruction: Box::new(instruction),
    })
}

/// One trigger line to its instruction. Docker refuses the same three
/// keywords, when the trigger is written and again when it runs: a second
/// ONBUILD would make triggers that never end, and FROM and MAINTAINER
/// describe an image, which the trigger's build has already chosen.
///
/// The escape is `\` for a trigger being written, whatever the file's
/// `# escape=` says: docker reads a stored trigger back as a Dockerfile of
/// its own, without the directives of the file that wrote it.
pub(crate) fn trigger(line: &LogicalLine, escape: char) -> Result<Instruction, ParseError> {
    let text = line.text.trim_start();
    let start = line.text.len() - text.len();
    let keyword = text.split_whitespace().next().unwrap_or_default();
    let refused = match keyword.to_ascii_uppercase().as_str() {
        "ONBUILD" => Some(Kind::OnbuildChained),
        "FROM" => Some(Kind::NotATrigger("FROM")),
        "MAINTAINER" => Some(Kind::NotATrigger("MAINTAINER")),
        _ => None,
    };
    if let Some(kind) = refused {
        return Err(line.error(start, kind));
    }
    match parse_line(line, escape)? {
        Parsed::Step(instruction) => Ok(instruction),
        Parsed::From(_) => Err(line.error(start, Kind::NotATrigger("FROM"))),
    }
}
