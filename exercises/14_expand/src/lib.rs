//! # Exercise 14: `$VARIABLES` in a Dockerfile word
//!
//! No shell runs for `WORKDIR $HOME/app` or `COPY app.tar ${DEST:-/opt}/`:
//! the builder expands those variables itself, with the ARGs and ENVs set
//! so far, using a small piece of the shell's syntax. With `HOME=/root`:
//!
//! | word | becomes |
//! |---|---|
//! | `$HOME/app` | `/root/app` |
//! | `${HOME}s` | `/roots` |
//! | `${DEST:-/opt}` | `/opt` |
//! | `'$HOME'` | `$HOME` |
//! | `"$HOME dir"` | `/root dir` |
//! | `\$HOME` | `$HOME` |
//!
//! Write [`expand`]. Run `cargo ex check 14_expand` until it passes.

// The parameters are unused until the `todo!()` is replaced.
#![allow(unused_variables)]

use std::collections::BTreeMap;

/// The variables in scope: a name that is not a key is *unset*, which is
/// not the same as set to `""`.
pub type Vars = BTreeMap<String, String>;

/// Expand the variables in one word of a Dockerfile, and remove its quotes
/// and escapes, as the builder does for `WORKDIR $HOME/app`:
///
/// | written | gives |
/// |---|---|
/// | `$NAME`, `${NAME}` | the value, or nothing when unset |
/// | `${NAME:-word}` | the value if set and not empty, else `word` |
/// | `${NAME-word}` | the value if set (even to `""`), else `word` |
/// | `${NAME:+word}` | `word` if set and not empty, else nothing |
/// | `${NAME+word}` | `word` if set (even to `""`), else nothing |
/// | `\c` | `c`, whatever it is: `\$HOME` is `$HOME`; a `\` at the very end is dropped |
/// | `'...'` | what is inside, as it is: nothing is special but the closing `'` |
/// | `"..."` | what is inside, expanded; `\` protects only `"`, `$` and `\`, and is kept before anything else |
///
/// A name is an ASCII letter or `_`, then letters, digits and `_`; it is as
/// long as it can be, so `$NAME_x` is the variable `NAME_x`. A `$` that is
/// followed by neither a name nor `{` is a literal `$`. The `word` of a
/// modifier runs to the next `}` outside quotes and is expanded the same
/// way, so it may hold quotes and variables (`${DIR:-"$HOME/my app"}`).
/// Values are inserted as they are: a `$` or a quote in a value is not
/// expanded again.
///
/// The word is well formed: every quote and `${` is closed, and no other
/// modifier appears.
pub fn expand(word: &str, vars: &Vars) -> String {
    // TODO: walk the characters with `word.chars().peekable()`: `next_if`
    //       and `next_if_eq` take a character only when it is the one you
    //       want.
    // TODO: outside quotes: `\` takes the next character as it is, `'`
    //       copies up to the next `'`, `"` starts a double-quoted part, `$`
    //       starts a variable, anything else is itself.
    // TODO: in double quotes: `$` still expands, and `\` protects only `"`,
    //       `$` and `\` (before anything else, it stays).
    // TODO: after `$`: a name, or `{`, a name, and either `}` or a modifier
    //       (`:-`, `-`, `:+`, `+`) and a word up to the next unquoted `}`.
    //       The word is expanded by the very same rules: the function that
    //       expands the whole word can do it, if it can be told to stop at
    //       a `}`.
    todo!("expand the variables in a word, remove its quotes and escapes")
}
