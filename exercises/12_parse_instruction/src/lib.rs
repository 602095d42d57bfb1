//! # Exercise 12: one Dockerfile line, one instruction
//!
//! A Dockerfile is a list of instructions, one per logical line, each a
//! keyword and its arguments. The keyword decides how the rest is read:
//!
//! | line | becomes |
//! |---|---|
//! | `FROM golang:1.22 AS build` | `From { image: "golang:1.22", name: Some("build") }` |
//! | `RUN make all` | `Run(Shell("make all"))` |
//! | `CMD ["nginx", "-g", "daemon off;"]` | `Cmd(Exec(["nginx", "-g", "daemon off;"]))` |
//! | `COPY a.txt b.txt /dest/` | `Copy { sources: ["a.txt", "b.txt"], destination: "/dest/" }` |
//! | `ENV A=1 GREETING="hi there"` | `Env([("A", "1"), ("GREETING", "\"hi there\"")])` |
//! | `EXPOSE 80 53/udp` | `Expose(["80", "53/udp"])` |
//!
//! Write [`parse_instruction`] for these seven keywords. Run
//! `cargo ex check 12_parse_instruction` until it passes.

// The parameter is unused until the `todo!()` is replaced.
#![allow(unused_variables)]

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
    // TODO: trim the line and split it at the first blank into the keyword
    //       and the arguments (trimmed too; a line may be just a keyword).
    // TODO: match on the keyword in uppercase; anything else is Unknown,
    //       holding the keyword as it was written.
    // TODO: a helper that reads the arguments as a JSON array with
    //       `serde_json::from_str::<Vec<serde_json::Value>>`, telling apart
    //       "not JSON" (shell form), "all strings" (exec form) and "some
    //       element is not a string" (NotStrings). RUN, CMD, ENTRYPOINT and
    //       COPY all use it.
    // TODO: FROM, COPY and EXPOSE split on blanks; ENV splits on blanks
    //       outside quotes, keeping the quotes, then each word at its first '='.
    todo!("parse one Dockerfile line into an Instruction")
}
