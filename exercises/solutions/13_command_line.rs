//! Reference solution for exercise 13: what a container runs.

use cratebox_dockerfile::Form;

/// The argv of one form on its own: an exec form is its list as it is; a
/// shell form `line` is the shell followed by the line, as one last
/// argument: `["/bin/sh", "-c", "line"]`.
pub fn argv(form: &Form, shell: &[String]) -> Vec<String> {
    match form {
        Form::Exec(args) => args.clone(),
        Form::Shell(line) => shell.iter().cloned().chain([line.clone()]).collect(),
    }
}

/// The argv a container runs, from the image's ENTRYPOINT and CMD, as the
/// Dockerfile reference's table has it:
///
/// | | no CMD | CMD exec form | CMD shell form |
/// |---|---|---|---|
/// | no ENTRYPOINT | nothing: `[]` | the CMD | the CMD, through the shell |
/// | ENTRYPOINT exec form | the ENTRYPOINT | ENTRYPOINT + CMD | ENTRYPOINT + the CMD through the shell |
/// | ENTRYPOINT shell form | the ENTRYPOINT, through the shell | the same: CMD is ignored | the same |
///
/// "Through the shell" is [`argv`] of a shell form; `shell` is the one in
/// force, usually `["/bin/sh", "-c"]`.
pub fn command_line(
    entrypoint: Option<&Form>,
    cmd: Option<&Form>,
    shell: &[String],
) -> Vec<String> {
    match (entrypoint, cmd) {
        (None, None) => Vec::new(),
        (None, Some(cmd)) => argv(cmd, shell),
        // Only an exec-form ENTRYPOINT takes the CMD as more arguments.
        (Some(entry @ Form::Exec(_)), Some(cmd)) => {
            let mut line = argv(entry, shell);
            line.extend(argv(cmd, shell));
            line
        }
        // A shell-form ENTRYPOINT, or one with no CMD, is all there is.
        (Some(entry), _) => argv(entry, shell),
    }
}
