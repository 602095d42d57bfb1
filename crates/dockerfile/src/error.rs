//! What can go wrong while parsing, and where.
//!
//! Every error carries the line and column it was found at, so that a
//! message reads like a compiler's: `Dockerfile:3:5: COPY needs at least a
//! source and a destination`. Lines and columns count from 1, and columns
//! count characters, not bytes, so they match what an editor shows.

use thiserror::Error;

use crate::port::PortError;

/// A parse failure at a place in the Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("Dockerfile:{line}:{column}: {kind}")]
pub struct ParseError {
    /// The physical line (1-based) the problem is on.
    pub line: usize,
    /// The character column (1-based) the problem starts at.
    pub column: usize,
    /// What the problem is.
    pub kind: ParseErrorKind,
}

/// What went wrong. The messages say what was expected, because the reader
/// of an error usually wants to know how to fix the line, not how the
/// parser works.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseErrorKind {
    #[error("invalid escape directive {0:?}: it must be a backslash (\\) or a backtick (`)")]
    InvalidEscape(String),

    #[error("the {0} parser directive is given twice: each may appear only once")]
    DuplicateDirective(String),

    #[error(
        "unknown instruction {0}: expected one of ADD, ARG, CMD, COPY, ENTRYPOINT, ENV, EXPOSE, \
         FROM, LABEL, MAINTAINER, ONBUILD, RUN, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR"
    )]
    UnknownInstruction(String),

    #[error("{0} is a real Dockerfile instruction, but cratebox does not support it")]
    Unsupported(&'static str),

    #[error("{instruction} --{flag} is a real Dockerfile flag, but cratebox does not support it")]
    UnsupportedFlag {
        instruction: &'static str,
        flag: String,
    },

    #[error(
        "{word} starts a heredoc, a real Dockerfile feature that cratebox does not support: \
         put the text in a file in the build context and COPY it"
    )]
    Heredoc { word: String },

    #[error("ONBUILD ONBUILD is not allowed: a trigger cannot add triggers of its own")]
    OnbuildChained,

    #[error("{0} is not allowed as an ONBUILD trigger")]
    NotATrigger(&'static str),

    #[error("an ONBUILD trigger must be exactly one instruction, found {0}")]
    TriggerCount(usize),

    #[error("{0} comes before the first FROM: only ARG may come before it")]
    BeforeFrom(&'static str),

    #[error("the Dockerfile has no FROM instruction: it must start with one, e.g. FROM alpine")]
    NoFrom,

    #[error("FROM needs an image, optionally followed by AS and a stage name, e.g. FROM alpine AS build")]
    FromArguments,

    #[error(
        "invalid stage name {0:?}: it must start with a letter and hold only letters, digits, \
         '-', '_' and '.'"
    )]
    InvalidStageName(String),

    #[error("stage name {name:?} is already used by the stage on line {first_line}")]
    DuplicateStage { name: String, first_line: usize },

    #[error("{instruction} does not take the flag --{flag}")]
    UnknownFlag {
        instruction: &'static str,
        flag: String,
    },

    #[error("the flag --{0} needs a value, e.g. --{0}=VALUE")]
    FlagNeedsValue(String),

    #[error("the flag --{0} is given twice")]
    DuplicateFlag(String),

    /// The instruction lacks arguments it cannot do without; `expected`
    /// completes the sentence "`instruction` needs ...".
    #[error("{instruction} needs {expected}")]
    Missing {
        instruction: &'static str,
        expected: &'static str,
    },

    /// The instruction got more than it takes; `expected` completes the
    /// sentence "`instruction` takes ...".
    #[error("{instruction} takes {expected}")]
    TooMany {
        instruction: &'static str,
        expected: &'static str,
    },

    #[error("{0} has a JSON array that holds something other than strings: write every element in double quotes")]
    NotStringArray(&'static str),

    #[error("SHELL needs a JSON array of strings, e.g. SHELL [\"/bin/sh\", \"-c\"]")]
    ShellNotJson,

    #[error("expected name=value, found {0:?}")]
    ExpectedNameValue(String),

    #[error("{0} has an empty name before '='")]
    EmptyName(&'static str),

    #[error("VOLUME paths must not be empty strings")]
    EmptyVolume,

    #[error(transparent)]
    Port(#[from] PortError),
}
