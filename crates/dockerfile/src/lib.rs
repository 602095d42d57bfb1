//! # cratebox-dockerfile: reading a Dockerfile
//!
//! A Dockerfile is a recipe: start `FROM` an image, `COPY` some files in,
//! `RUN` a command, say which `CMD` the result runs. Chapter 5 builds images
//! from them; this crate only *reads* them. Everything here is a pure
//! function from text to data: no files are opened, no variables looked up
//! in the environment, nothing is run. That makes the whole crate testable
//! with snapshots, and leaves the builder to decide what the data means.
//!
//! The lesson goes in the order the text is processed:
//!
//! | file | what |
//! |---|---|
//! | [`lexer`] | parser directives (`# escape=`), comments, `\` continuations: text to logical lines |
//! | `words` | the ways instructions split their arguments: blanks, quotes, `--flags`, JSON arrays |
//! | `instruction` | one logical line to one [`Instruction`], with its errors |
//! | `parser` | [`parse`]: lines grouped into [`Stage`]s, global ARGs before the first FROM; [`parse_trigger`]: an ONBUILD trigger read back from an image |
//! | [`ast`] | the tree: [`Dockerfile`], [`Stage`], [`Step`], [`Instruction`], [`Form`] |
//! | [`port`] | EXPOSE's `80/tcp` as a [`Port`] |
//! | [`expand`](mod@expand) | [`expand()`]: `$VAR`, `${VAR:-default}`, quotes; and which instructions use it |
//! | [`command`] | [`command_line`]: how ENTRYPOINT and CMD combine into what a container runs |
//! | [`error`] | [`ParseError`]: `Dockerfile:3:5: COPY needs at least a source and a destination` |
//!
//! ```
//! use cratebox_dockerfile::{parse, Form, Instruction};
//!
//! let file = parse("FROM alpine\nCMD [\"echo\", \"hi\"]\n")?;
//! let cmd = &file.stages[0].steps[0];
//! assert_eq!(cmd.line, 2);
//! assert_eq!(cmd.instruction, Instruction::Cmd(Form::Exec(vec!["echo".into(), "hi".into()])));
//! # Ok::<(), cratebox_dockerfile::ParseError>(())
//! ```
//!
//! `ONBUILD RUN make` is read into an [`Instruction::Onbuild`] that keeps the
//! trigger's text, which is what an image stores, and the instruction it
//! parses to; [`parse_trigger`] reads such a text back when a later build
//! starts `FROM` the image.
//!
//! What is left out on purpose: heredocs (`RUN <<EOF`) and docker's newer
//! flags (`RUN --mount`, `--network`, `COPY --link`, ...). Each is refused
//! with a one-line error naming it.

pub mod ast;
pub mod command;
pub mod error;
pub mod expand;
mod instruction;
pub mod lexer;
mod parser;
pub mod port;
mod words;

pub use ast::{Arg, Dockerfile, Files, Form, From, Healthcheck, Instruction, Stage, Step, Trigger};
pub use command::{command_line, DEFAULT_SHELL};
pub use error::{ParseError, ParseErrorKind};
pub use expand::{expand, ExpandError};
pub use lexer::DEFAULT_ESCAPE;
pub use parser::{parse, parse_trigger};
pub use port::{Port, PortError, Protocol};
