//! Why a build stopped: before its first step ([`BuildError`]), or at one
//! ([`StepError`], wrapped with the step's number, text and line).
//!
//! Each variant keeps its cause as a value, not as text, so a caller can
//! still ask what happened (a RUN whose command was not found carries the
//! container's own error, exit code 127 included).

use std::io;
use std::path::PathBuf;

use cratebox_dockerfile::{ExpandError, ParseError, ParseErrorKind, PortError};
use cratebox_image::layers::LayerError;
use cratebox_image::reference::Reference;
use cratebox_image::store::StoreError;
use cratebox_runtime::{EngineError, RunError};
use thiserror::Error;

use crate::archive::ArchiveError;
use crate::copy::CopyError;
use crate::ignore::IgnoreError;
use crate::tree::TreeError;

/// Why a build stopped.
#[derive(Debug, Error)]
pub enum BuildError {
    /// The context directory cannot be used.
    #[error("cannot use {path} as the build context: {source}: pass an existing directory")]
    Context {
        /// As given.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The context is a file.
    #[error(
        "the build context {0} is not a directory: pass the directory that holds the Dockerfile"
    )]
    ContextNotADirectory(PathBuf),
    /// The Dockerfile cannot be read.
    #[error("cannot read {path}: {source}: write a Dockerfile there or pass -f FILE")]
    Dockerfile {
        /// Where it was looked for.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The Dockerfile does not parse.
    #[error("{file}{}", .error.to_string().trim_start_matches("Dockerfile"))]
    Parse {
        /// Its file name, for the message.
        file: String,
        /// Where and why.
        error: ParseError,
    },
    /// `.dockerignore` cannot be used.
    #[error(transparent)]
    Ignore(#[from] IgnoreError),
    /// The build's own directories cannot be made.
    #[error("cannot create {path}: {source}")]
    Scratch {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// One step failed.
    #[error("step {number}/{total} `{instruction}` ({file}:{line}): {source}")]
    Step {
        /// Its number, from 1, counting each FROM.
        number: usize,
        /// How many steps there are.
        total: usize,
        /// The instruction as written back.
        instruction: String,
        /// The Dockerfile's name.
        file: String,
        /// Its line.
        line: usize,
        /// What went wrong (boxed: a step can fail in many ways, some
        /// of them large, and a `Result` is as big as its error).
        #[source]
        source: Box<StepError>,
    },
    /// Nothing was built: the last stage is only `FROM scratch`.
    #[error("the last stage is an empty FROM scratch: add a step to it")]
    EmptyResult,
    /// The result could not be named.
    #[error("cannot name the image {tag}: {source}")]
    Tag {
        /// The name asked for.
        tag: Reference,
        /// Why.
        #[source]
        source: StoreError,
    },
}

/// Why one step failed.
#[derive(Debug, Error)]
pub enum StepError {
    /// A `$VARIABLE` that does not expand.
    #[error("{text:?}: {source}")]
    Expand {
        /// The word as written.
        text: String,
        /// Why.
        #[source]
        source: ExpandError,
    },
    /// FROM names no stage and no image in the store.
    #[error("{0}; or name an earlier stage (FROM ... AS NAME)")]
    NoBase(#[source] EngineError),
    /// A RUN's command could not start (not found: 127, not executable: 126).
    #[error(transparent)]
    Run(#[from] RunError),
    /// The default security options could not be prepared (chapter 9).
    #[error(transparent)]
    Security(#[from] cratebox_runtime::security::SecurityError),
    /// A HEALTHCHECK flag that does not parse.
    #[error("HEALTHCHECK --{flag}={value}: {why}")]
    Healthcheck {
        /// The flag.
        flag: &'static str,
        /// Its value.
        value: String,
        /// What is expected.
        why: &'static str,
    },
    /// A RUN's command ran and failed.
    #[error("the command {argv} returned a non-zero code: {code}{}", why.iter().map(|line| format!(" ({line})")).collect::<String>())]
    Failed {
        /// The command, as JSON.
        argv: String,
        /// Its exit code.
        code: i32,
        /// What its cgroup saw that explains it (killed: out of memory, ...).
        why: Vec<String>,
    },
    /// COPY or ADD could not find or copy its sources.
    #[error(transparent)]
    Copy(#[from] CopyError),
    /// ADD could not unpack or download.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// A path in the image cannot be resolved.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The store failed while the step's image was written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The image's layers could not be unpacked.
    #[error(transparent)]
    Layers(#[from] LayerError),
    /// `--chown` names a user or group the image does not have.
    #[error("--chown={spec}: {why}")]
    Chown {
        /// As written.
        spec: String,
        /// What the lookup said.
        why: String,
    },
    /// `--chmod` that is not an octal mode.
    #[error("--chmod={0} is not an octal mode: write it like 0755")]
    Chmod(String),
    /// Several sources into something that is not a directory.
    #[error("{count} sources are copied to {destination}: when copying more than one, the destination must be a directory and end with a /")]
    ManyIntoOne {
        /// How many sources.
        count: usize,
        /// The destination as written.
        destination: String,
    },
    /// An EXPOSE that is not a port.
    #[error(transparent)]
    Port(#[from] PortError),
    /// The step's scratch directory could not be made.
    #[error("cannot create {path}: {source}")]
    Scratch {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// An ONBUILD trigger of the base image failed (or does not parse).
    #[error("ONBUILD trigger `{text}` of {image}: {source}")]
    Trigger {
        /// The trigger as stored in the base image.
        text: String,
        /// The base image as FROM named it.
        image: String,
        /// What went wrong.
        #[source]
        source: Box<StepError>,
    },
    /// A stored trigger that does not parse.
    #[error("{0}")]
    BadTrigger(ParseErrorKind),
    /// The cache could not record the step.
    #[error("cannot record the step in the build cache: {0}")]
    Record(#[source] io::Error),
}
