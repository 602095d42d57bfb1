//! What a container runs: ENTRYPOINT and CMD combined.
//!
//! An image records two things: an ENTRYPOINT (the program) and a CMD
//! (default arguments, or a default program when there is no ENTRYPOINT).
//! `docker run IMAGE ARGS...` replaces the CMD with ARGS and keeps the
//! ENTRYPOINT. How the two combine depends on their forms, as the
//! Dockerfile reference tabulates:
//!
//! | | no CMD | CMD `["c", "p"]` | CMD `c p` |
//! |---|---|---|---|
//! | no ENTRYPOINT | nothing to run | `c p` | `/bin/sh -c "c p"` |
//! | ENTRYPOINT `["e", "p"]` | `e p` | `e p c p` | `e p /bin/sh -c "c p"` |
//! | ENTRYPOINT `e p` | `/bin/sh -c "e p"` | `/bin/sh -c "e p"` | `/bin/sh -c "e p"` |
//!
//! The last row is why the exec form is preferred for ENTRYPOINT: in shell
//! form the CMD (and `docker run`'s arguments) are silently ignored, and the
//! program runs as a child of `sh`, so `docker stop`'s SIGTERM goes to the
//! shell, which does not pass it on.
//!
//! One rule is the builder's, not this function's: an ENTRYPOINT in a
//! Dockerfile resets any CMD inherited from the base image, because
//! arguments meant for the base image's program rarely suit a new one.

use crate::ast::Form;

/// The shell that shell forms run through unless a SHELL instruction
/// changes it.
pub const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

// ANCHOR: command_line
/// The argv a container runs, from the image's ENTRYPOINT and CMD.
///
/// `shell` is the SHELL in force when each was set (usually
/// [`DEFAULT_SHELL`]); a shell form `s` becomes `shell + [s]`. An empty
/// result means the image has nothing to run.
pub fn command_line(
    entrypoint: Option<&Form>,
    cmd: Option<&Form>,
    shell: &[String],
) -> Vec<String> {
    let argv = |form: &Form| match form {
        Form::Exec(args) => args.clone(),
        Form::Shell(line) => shell.iter().cloned().chain([line.clone()]).collect(),
    };
    match (entrypoint, cmd) {
        // A shell-form ENTRYPOINT owns the whole command line.
        (Some(entry @ Form::Shell(_)), _) => argv(entry),
        // An exec-form ENTRYPOINT takes the CMD, whatever its form, as
        // arguments.
        (Some(entry @ Form::Exec(_)), Some(cmd)) => {
            let mut line = argv(entry);
            line.extend(argv(cmd));
            line
        }
        (Some(entry), None) => argv(entry),
        (None, Some(cmd)) => argv(cmd),
        (None, None) => Vec::new(),
    }
}
// ANCHOR_END: command_line
