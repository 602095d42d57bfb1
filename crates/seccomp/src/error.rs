//! What can be wrong with a profile, and where.
//!
//! A profile is a few hundred lines of JSON that someone edited by hand, so
//! every message points at the entry the way `jq` would find it
//! (`entry 12` is `.syscalls[12]`, counted from 0), shows its first names so
//! the reader recognises it, and ends with the fix.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

use crate::action::ACTION_NAMES;

/// A profile that could not be read or understood.
#[derive(Debug, Error)]
#[error("seccomp profile{}: {kind}", file_part(.file))]
pub struct ProfileError {
    /// The file it came from, when it came from one.
    pub file: Option<PathBuf>,
    /// What is wrong.
    pub kind: ProfileErrorKind,
}

fn file_part(file: &Option<PathBuf>) -> String {
    match file {
        Some(path) => format!(" {}", path.display()),
        None => String::new(),
    }
}

/// Where in a profile a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The profile's `defaultAction` and `defaultErrnoRet`.
    Default,
    /// Entry `index` of `syscalls`, which names `names`.
    Entry {
        /// Its position in `syscalls`, from 0.
        index: usize,
        /// The syscalls it names.
        names: Vec<String>,
    },
}

/// Shows at most three names: enough to find the entry, short enough for
/// one line even for docker's 300-name allowlist.
impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Default => f.write_str("defaultAction"),
            Place::Entry { index, names } => {
                let shown: Vec<String> = names.iter().take(3).map(|n| format!("{n:?}")).collect();
                let more = if names.len() > 3 { ", ..." } else { "" };
                write!(f, "entry {index} (names [{}{more}])", shown.join(", "))
            }
        }
    }
}

/// What is wrong with a profile.
#[derive(Debug, Error)]
pub enum ProfileErrorKind {
    /// The file could not be read.
    #[error("cannot read it: {0}: pass the path of a JSON profile, e.g. a copy of docker's default.json")]
    Read(#[source] std::io::Error),

    /// The text is not JSON, or a field has the wrong type.
    #[error("bad JSON: {0}: fix it, or start from a copy of docker's default.json")]
    Json(#[source] serde_json::Error),

    /// An action name we do not know.
    #[error("{place}: unknown action {action:?}: use one of {ACTION_NAMES}")]
    UnknownAction {
        /// Where.
        place: Place,
        /// The name found.
        action: String,
    },

    /// A comparison operator we do not know.
    #[error(
        "{place}: args[{arg}]: unknown op {op:?}: use one of SCMP_CMP_NE, SCMP_CMP_LT, \
         SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ"
    )]
    UnknownOp {
        /// Where.
        place: Place,
        /// Which of the entry's `args`.
        arg: usize,
        /// The name found.
        op: String,
    },

    /// An argument index past the sixth argument.
    #[error(
        "{place}: args[{arg}]: index {index} is out of range: a system call has at most six \
         arguments, numbered 0 to 5"
    )]
    ArgIndex {
        /// Where.
        place: Place,
        /// Which of the entry's `args`.
        arg: usize,
        /// The index found.
        index: u64,
    },

    /// An errno the kernel would not return.
    #[error("{place}: errnoRet {errno} is out of range: the kernel returns errnos up to 4095, e.g. 1 for EPERM")]
    Errno {
        /// Where.
        place: Place,
        /// The value found.
        errno: u64,
    },

    /// Both the legacy `name` and `names`.
    #[error("{place}: has both \"name\" and \"names\": list every syscall in \"names\"")]
    NameAndNames {
        /// Where.
        place: Place,
    },

    /// Neither `name` nor `names`.
    #[error("{place}: names no syscall: add \"names\": [\"...\"]")]
    NoNames {
        /// Where.
        place: Place,
    },

    /// A `minKernel` that is not a version.
    #[error("{place}: minKernel {value:?} is not a kernel version: write it as major.minor, e.g. \"4.8\"")]
    MinKernel {
        /// Where.
        place: Place,
        /// The value found.
        value: String,
    },

    /// Both ways of listing architectures.
    #[error("has both \"architectures\" and \"archMap\": keep one (docker's default.json uses \"archMap\")")]
    ArchitecturesAndArchMap,
}

/// A profile that was understood but cannot become a filter.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CompileError {
    /// The kernel refuses programs longer than `BPF_MAXINSNS`.
    #[error(
        "the compiled seccomp filter has {instructions} instructions, more than the kernel's \
         limit of {limit}: merge entries that share an action, or check fewer arguments"
    )]
    TooLong {
        /// How long it came out.
        instructions: usize,
        /// The kernel's limit.
        limit: usize,
    },
}
