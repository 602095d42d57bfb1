//! What a parsed Dockerfile is: stages of steps.
//!
//! A Dockerfile describes one or more *stages*. Each starts with `FROM`,
//! which names the image it builds on, and goes on with the steps that
//! change it. A multi-stage file builds several images and copies files
//! between them (`COPY --from=build`); the last stage is the result.
//!
//! The tree keeps arguments *as written*: quotes, escapes and `$VARIABLES`
//! included. Expanding them needs values (ARGs given on the command line,
//! ENVs set by earlier steps) that only the builder knows, and the quotes
//! decide what gets expanded (`'$HOME'` does not), so removing them here
//! would lose information. [`crate::expand()`] does both jobs later.

/// A whole Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The escape character in force (`\`, or `` ` `` after
    /// `` # escape=` ``); the builder passes it on to [`crate::expand()`].
    pub escape: char,
    /// ARGs declared before the first FROM, each with its line. Only FROM
    /// lines may use them (`ARG VERSION=3.20` / `FROM alpine:$VERSION`).
    pub global_args: Vec<(usize, Arg)>,
    /// The stages in file order; never empty.
    pub stages: Vec<Stage>,
}

/// One `FROM` and the steps after it, up to the next `FROM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The line of the FROM.
    pub line: usize,
    pub from: From,
    pub steps: Vec<Step>,
}

/// `FROM [--platform=P] image [AS name]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct From {
    /// An image reference, or the name of an earlier stage.
    pub image: String,
    /// The stage's name, lowercased as docker does, for `COPY --from=`.
    pub name: Option<String>,
    pub platform: Option<String>,
}

/// One instruction and the line it starts on. "Step" is what `docker build`
/// calls them as it runs them (`Step 3/7 : RUN make`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The physical line (1-based) the instruction starts on.
    pub line: usize,
    pub instruction: Instruction,
}

/// Every instruction a stage may hold after its FROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    /// Run a command in the image being built, and keep what it changed.
    Run(Form),
    /// The default command, or default arguments to the ENTRYPOINT.
    Cmd(Form),
    /// The program a container of the image runs; see [`crate::command_line`].
    Entrypoint(Form),
    /// Copy files from the build context or another stage.
    Copy(Files),
    /// Like COPY, but also unpacks local tar archives and fetches URLs.
    Add(Files),
    /// Set environment variables, in the image and for later steps.
    Env(Vec<(String, String)>),
    /// Declare build arguments, with optional defaults.
    Arg(Vec<Arg>),
    /// The working directory for later steps and for the container.
    Workdir(String),
    /// The user (and group) later steps and the container run as.
    User(String),
    /// Ports the program listens on; see [`crate::Port`].
    Expose(Vec<String>),
    /// Metadata, as key=value pairs in the image config.
    Label(Vec<(String, String)>),
    /// The image's author. Deprecated in favour of a LABEL, still accepted.
    Maintainer(String),
    /// Directories that hold data rather than image content.
    Volume(Vec<String>),
    /// The shell that shell-form commands run through (default
    /// `["/bin/sh", "-c"]`).
    Shell(Vec<String>),
    /// The signal that asks the container to stop (default SIGTERM).
    StopSignal(String),
    /// How to tell that a container of the image works; see [`Healthcheck`].
    Healthcheck(Healthcheck),
    /// An instruction kept in the image for a later build: `ONBUILD COPY .
    /// /app` in a base image runs `COPY . /app` right after the `FROM` of
    /// every Dockerfile that builds on it. See [`Trigger`].
    Onbuild(Trigger),
}

/// `HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D]
/// [--start-interval=D] [--retries=N] CMD command`, or `HEALTHCHECK NONE`
/// (no check, not even a base image's). The durations and the count are
/// kept as written; the builder reads them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Healthcheck {
    /// The command; `None` for `NONE`.
    pub test: Option<Form>,
    /// `--interval`.
    pub interval: Option<String>,
    /// `--timeout`.
    pub timeout: Option<String>,
    /// `--start-period`.
    pub start_period: Option<String>,
    /// `--start-interval`.
    pub start_interval: Option<String>,
    /// `--retries`.
    pub retries: Option<String>,
}

/// What `ONBUILD` keeps: the trigger as text and as the instruction it is.
///
/// Both, because they serve two builds. The image records the *text*, in
/// its config's `OnBuild` list, exactly as docker does (`"RUN echo hi"`);
/// the later build reads that text back with [`crate::parse_trigger`]. The
/// parsed *instruction* is that same reading done now, so that a trigger
/// that can never run is refused when it is written rather than in
/// somebody else's build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The instruction as written after `ONBUILD`, continuations joined.
    pub text: String,
    /// `text` parsed as a later build will parse it: with the default
    /// escape `\`, whatever this Dockerfile's `# escape=` says, because
    /// docker reads a stored trigger as a Dockerfile of its own.
    pub instruction: Box<Instruction>,
}

/// The two ways to write a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// `RUN make all`: one string, run as `/bin/sh -c "make all"`, so the
    /// shell expands variables, globs and pipes.
    Shell(String),
    /// `RUN ["make", "all"]`: a JSON array, executed directly, with no
    /// shell and hence no expansion at all.
    Exec(Vec<String>),
}

/// The arguments of COPY and ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    /// `--from=`: a stage name or index, or an image; COPY only.
    pub from: Option<String>,
    /// `--chown=user:group` for the copied files.
    pub chown: Option<String>,
    /// `--chmod=0755` for the copied files.
    pub chmod: Option<String>,
    /// What to copy: paths in the context (or the `from` stage), globs
    /// allowed. Never empty.
    pub sources: Vec<String>,
    /// Where to put it; a trailing `/` means "into this directory".
    pub destination: String,
}

/// `ARG name[=default]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub name: String,
    pub default: Option<String>,
}
