//! Reference solution for exercise 14: variables, quotes and escapes in a word.

use std::collections::BTreeMap;
use std::iter::Peekable;
use std::str::Chars;

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
    let mut chars = word.chars().peekable();
    until(&mut chars, vars, None)
}

type Cursor<'a> = Peekable<Chars<'a>>;

/// Expand up to the end, or up to an unquoted `stop`, which is left unread.
fn until(chars: &mut Cursor<'_>, vars: &Vars, stop: Option<char>) -> String {
    let mut out = String::new();
    while let Some(c) = chars.next_if(|&c| Some(c) != stop) {
        match c {
            '\\' => out.extend(chars.next()),
            '\'' => out.extend(chars.by_ref().take_while(|&c| c != '\'')),
            '"' => double_quoted(chars, vars, &mut out),
            '$' => out.push_str(&dollar(chars, vars)),
            c => out.push(c),
        }
    }
    out
}

/// After an opening `"`, up to and including the closing one.
fn double_quoted(chars: &mut Cursor<'_>, vars: &Vars, out: &mut String) {
    while let Some(c) = chars.next() {
        match c {
            '"' => return,
            '$' => out.push_str(&dollar(chars, vars)),
            '\\' => match chars.next_if(|&n| matches!(n, '"' | '$' | '\\')) {
                Some(protected) => out.push(protected),
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
}

/// A name, as long as it goes; empty when there is none.
fn name(chars: &mut Cursor<'_>) -> String {
    let mut name = String::new();
    if let Some(first) = chars.next_if(|&c| c.is_ascii_alphabetic() || c == '_') {
        name.push(first);
        while let Some(c) = chars.next_if(|&c| c.is_ascii_alphanumeric() || c == '_') {
            name.push(c);
        }
    }
    name
}

/// After a `$`: what `$NAME`, `${NAME}` or `${NAME<modifier>word}` gives.
fn dollar(chars: &mut Cursor<'_>, vars: &Vars) -> String {
    if chars.next_if_eq(&'{').is_none() {
        let name = name(chars);
        if name.is_empty() {
            return "$".to_string();
        }
        return vars.get(&name).cloned().unwrap_or_default();
    }
    let value = vars.get(&name(chars));
    if chars.next_if_eq(&'}').is_some() {
        return value.cloned().unwrap_or_default();
    }
    // With a colon, an empty value counts as unset.
    let colon = chars.next_if_eq(&':').is_some();
    let modifier = chars.next();
    let word = until(chars, vars, Some('}'));
    chars.next(); // the closing brace
    let value = value.filter(|v| !(colon && v.is_empty()));
    match (modifier, value) {
        (Some('-'), Some(value)) => value.clone(),
        (Some('-'), None) => word,
        (Some('+'), Some(_)) => word,
        _ => String::new(),
    }
}
