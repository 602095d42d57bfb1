//! Reference solution for exercise 12: one Dockerfile line to one instruction.

use thiserror::Error;

/// The two ways to write a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// `RUN make all`: one string, which `/bin/sh -c` will run, so the
    /// shell gets to expand variables, globs and pipes.
    Shell(String),
    /// `RUN ["make", "all"]`: a JSON array of strings, the program and its
    /// arguments, executed as they are, with no shell in between.
    Exec(Vec<String>),
}

/// The instructions this exercise knows, with their arguments as written:
/// quotes and `$VARIABLES` stay in the text (exercise 14 deals with them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    /// `FROM image [AS name]`: the image to start from, and the stage's
    /// name, lowercased, for a later `COPY --from=name`.
    From {
        /// The image reference, e.g. `alpine:3.20`.
        image: String,
        /// The stage name after `AS`, if any, in lowercase.
        name: Option<String>,
    },
    /// `RUN command`: run it while building, keep what it changed.
    Run(Form),
    /// `CMD command`: what a container runs by default.
    Cmd(Form),
    /// `ENTRYPOINT command`: the program a container runs; see exercise 13.
    Entrypoint(Form),
    /// `COPY src... dest`: files from the build context into the image.
    Copy {
        /// One or more sources.
        sources: Vec<String>,
        /// The destination, the last word.
        destination: String,
    },
    /// `ENV name=value ...`: environment variables, in order.
    Env(Vec<(String, String)>),
    /// `EXPOSE port ...`: the ports the program listens on, as written.
    Expose(Vec<String>),
}

/// Why a line is not an instruction.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The first word is none of the keywords above (in any case). It holds
    /// the word as written, so the message can show the typo.
    #[error("unknown instruction {0:?}: expected one of CMD, COPY, ENTRYPOINT, ENV, EXPOSE, FROM or RUN")]
    Unknown(String),
    /// The instruction lacks arguments it cannot do without; `expected`
    /// finishes the sentence "INSTRUCTION needs ...".
    #[error("{instruction} needs {expected}")]
    Missing {
        /// The keyword, in uppercase.
        instruction: &'static str,
        /// What is missing.
        expected: &'static str,
    },
    /// FROM with anything but `image` or `image AS name`.
    #[error(
        "FROM takes an image, optionally followed by AS and a stage name: FROM golang AS build"
    )]
    FromArguments,
    /// A JSON array with something other than strings in it, like
    /// `["sleep", 5]`: docker refuses it rather than guess.
    #[error("{0} has a JSON array that holds something other than strings: quote every element")]
    NotStrings(&'static str),
    /// An ENV word that is not `name=value` with a name.
    #[error("ENV expects name=value, found {0:?}")]
    NotNameValue(String),
}

/// Parse one logical line of a Dockerfile (comments, blank lines and `\`
/// continuations already dealt with) into an [`Instruction`].
///
/// - The line is `KEYWORD arguments`, with blanks around and between them
///   ignored. The keyword is case-insensitive; anything other than the
///   seven above is [`ParseError::Unknown`].
/// - `FROM` takes `image` or `image AS name` (`AS` in any case), else it is
///   [`ParseError::FromArguments`].
/// - `RUN`, `CMD` and `ENTRYPOINT` take the exec form when the arguments
///   are a JSON array (`serde_json` reads it), and the shell form, the
///   arguments as one string, otherwise. A JSON array that holds anything
///   but strings is [`ParseError::NotStrings`]. `CMD []` and
///   `ENTRYPOINT []` are allowed (they clear the command), `RUN []` is not.
/// - `COPY` takes a JSON array of strings, or words separated by blanks:
///   at least two, the last being the destination.
/// - `ENV` takes `name=value` words separated by blanks outside quotes:
///   `A="x y"` is one word. Quotes and `\` escapes stay in the value.
/// - `EXPOSE` takes one or more words separated by blanks.
///
/// An instruction without the arguments it needs is
/// [`ParseError::Missing`].
pub fn parse_instruction(line: &str) -> Result<Instruction, ParseError> {
    let line = line.trim();
    let (keyword, args) = match line.split_once(char::is_whitespace) {
        Some((keyword, args)) => (keyword, args.trim()),
        None => (line, ""),
    };
    match keyword.to_ascii_uppercase().as_str() {
        "FROM" => from(args),
        "RUN" => match command("RUN", args)? {
            Form::Exec(list) if list.is_empty() => Err(missing("RUN", COMMAND)),
            form => Ok(Instruction::Run(form)),
        },
        "CMD" => command("CMD", args).map(Instruction::Cmd),
        "ENTRYPOINT" => command("ENTRYPOINT", args).map(Instruction::Entrypoint),
        "COPY" => copy(args),
        "ENV" => env(args),
        "EXPOSE" => {
            let ports: Vec<String> = args.split_whitespace().map(String::from).collect();
            if ports.is_empty() {
                return Err(missing("EXPOSE", "at least one port, e.g. EXPOSE 80"));
            }
            Ok(Instruction::Expose(ports))
        }
        _ => Err(ParseError::Unknown(keyword.to_string())),
    }
}

/// What RUN, CMD and ENTRYPOINT need.
const COMMAND: &str = "a command, in shell form (echo hi) or exec form ([\"echo\", \"hi\"])";

fn missing(instruction: &'static str, expected: &'static str) -> ParseError {
    ParseError::Missing {
        instruction,
        expected,
    }
}

/// `FROM image` or `FROM image AS name`.
fn from(args: &str) -> Result<Instruction, ParseError> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let (image, name) = match words[..] {
        [image] => (image, None),
        [image, as_, name] if as_.eq_ignore_ascii_case("as") => (image, Some(name.to_lowercase())),
        _ => return Err(ParseError::FromArguments),
    };
    Ok(Instruction::From {
        image: image.to_string(),
        name,
    })
}

/// The arguments as a JSON array of strings: `None` when they are not a
/// JSON array at all, an error when the array holds something else.
fn json_strings(instruction: &'static str, args: &str) -> Option<Result<Vec<String>, ParseError>> {
    let items: Vec<serde_json::Value> = serde_json::from_str(args).ok()?;
    let strings = items
        .into_iter()
        .map(|item| match item {
            serde_json::Value::String(s) => Ok(s),
            _ => Err(ParseError::NotStrings(instruction)),
        })
        .collect();
    Some(strings)
}

/// RUN, CMD and ENTRYPOINT: exec form if it is JSON, shell form if not.
fn command(instruction: &'static str, args: &str) -> Result<Form, ParseError> {
    match json_strings(instruction, args) {
        Some(list) => list.map(Form::Exec),
        None if args.is_empty() => Err(missing(instruction, COMMAND)),
        None => Ok(Form::Shell(args.to_string())),
    }
}

/// `COPY src... dest`, as words or as a JSON array.
fn copy(args: &str) -> Result<Instruction, ParseError> {
    let mut words = match json_strings("COPY", args) {
        Some(list) => list?,
        None => args.split_whitespace().map(String::from).collect(),
    };
    match words.pop() {
        Some(destination) if !words.is_empty() => Ok(Instruction::Copy {
            sources: words,
            destination,
        }),
        _ => Err(missing("COPY", "at least a source and a destination")),
    }
}

/// `ENV a=1 b="x y"`: split on blanks outside quotes, then at the first `=`.
fn env(args: &str) -> Result<Instruction, ParseError> {
    let words = quoted_words(args);
    if words.is_empty() {
        return Err(missing("ENV", "name=value pairs, e.g. ENV MODE=prod"));
    }
    words
        .into_iter()
        .map(|word| match word.split_once('=') {
            Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
            _ => Err(ParseError::NotNameValue(word)),
        })
        .collect::<Result<_, _>>()
        .map(Instruction::Env)
}

/// Split on blanks that are outside quotes and not escaped, keeping the
/// quotes and escapes in the words. Inside single quotes `\` is an ordinary
/// character; an unclosed quote runs to the end.
fn quoted_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c.is_whitespace() && quote.is_none() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        word.push(c);
        match (c, quote) {
            ('\\', q) if q != Some('\'') => word.extend(chars.next()),
            ('"' | '\'', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            _ => {}
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}
