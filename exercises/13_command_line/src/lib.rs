//! # Exercise 13: what a container runs, from ENTRYPOINT and CMD
//!
//! An image records two commands. ENTRYPOINT is the program; CMD is its
//! default arguments, or, with no ENTRYPOINT, the default program.
//! `docker run IMAGE ARGS...` replaces the CMD and keeps the ENTRYPOINT.
//! Each can be in exec form (`["nginx", "-g", "daemon off;"]`) or shell
//! form (`nginx -g 'daemon off;'`, run as `/bin/sh -c "..."`), and the
//! forms decide how the two combine:
//!
//! ```text
//! ENTRYPOINT ["nginx"]          + CMD ["-g", "daemon off;"]  -> nginx -g "daemon off;"
//! ENTRYPOINT ["python3", "-m"]  + CMD http.server            -> python3 -m /bin/sh -c http.server
//! ENTRYPOINT nginx              + CMD ["-g", "daemon off;"]  -> /bin/sh -c nginx   (the CMD is lost)
//! ```
//!
//! Write [`argv`] and [`command_line`]. `Form` is cratebox's own
//! (`cratebox_dockerfile::Form`), the one its parser makes. Run
//! `cargo ex check 13_command_line` until it passes.

// The parameters are unused until the `todo!()`s are replaced.
#![allow(unused_variables)]

use cratebox_dockerfile::Form;

/// The argv of one form on its own: an exec form is its list as it is; a
/// shell form `line` is the shell followed by the line, as one last
/// argument: `["/bin/sh", "-c", "line"]`.
pub fn argv(form: &Form, shell: &[String]) -> Vec<String> {
    // TODO: match on the form. For the shell form, the shell's words and
    //       then the whole line as one more word.
    todo!("the argv of one exec or shell form")
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
    // TODO: match on the pair (entrypoint, cmd). Nine cells, but only four
    //       different rules: read the table row by row.
    todo!("combine ENTRYPOINT and CMD into one argv")
}
