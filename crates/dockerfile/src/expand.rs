//! Variable expansion: `$NAME`, `${NAME}`, `${NAME:-default}`.
//!
//! The builder, not the shell, expands variables in most instructions, so
//! that `WORKDIR $HOME/app` works even though no shell runs for it. The
//! syntax is a small part of the POSIX shell's, done by [`expand`] on one
//! word at a time:
//!
//! | written | gives |
//! |---|---|
//! | `$NAME`, `${NAME}` | the value, or nothing if unset |
//! | `${NAME:-word}` | the value if set and not empty, else `word` |
//! | `${NAME-word}` | the value if set (even empty), else `word` |
//! | `${NAME:+word}` | `word` if set and not empty, else nothing |
//! | `${NAME+word}` | `word` if set (even empty), else nothing |
//! | `\$NAME` | `$NAME`, literally (the escape character protects any character) |
//! | `'$NAME'` | `$NAME`: single quotes protect everything and are removed |
//! | `"$NAME x"` | the value and ` x`: double quotes expand, keep blanks, and are removed |
//!
//! `word` may itself hold quotes and variables.
//!
//! Docker's newer frontends know more: `${NAME?message}` and
//! `${NAME:?message}` (fail when unset, or empty), `${NAME#pattern}`,
//! `##`, `%`, `%%` (cut a prefix or suffix) and `${NAME/pattern/word}`,
//! `//` (replace). Here each is an error that names the modifier. The
//! shell's special parameters are left out too: `${#}` is an error, and a
//! bare `$$` or `$?` stays as written, where docker expands it to nothing.
//!
//! Which instructions expand: ADD, COPY, ENV, EXPOSE, FROM, LABEL,
//! STOPSIGNAL, USER, VOLUME, WORKDIR and ARG, plus the flag values of
//! COPY/ADD (`--from`, `--chown`, `--chmod`). FROM sees only the global
//! ARGs (those before the first FROM); the others see the stage's ARGs and
//! ENVs so far. RUN, CMD and ENTRYPOINT do *not* expand: a shell form is
//! expanded at run time by the shell, with the container's environment, and
//! an exec form is not expanded by anyone. Deciding which words to expand,
//! and with which values, is the builder's job; this function only expands.

use thiserror::Error;

/// Why a word could not be expanded. Columns count characters in the
/// word, from 1.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExpandError {
    #[error("unterminated ${{ at column {column}: add the closing }}")]
    UnterminatedBrace { column: usize },

    #[error("unterminated {quote} quote at column {column}: add the closing {quote}")]
    UnterminatedQuote { quote: char, column: usize },

    #[error("bad substitution at column {column}: expected a variable name after ${{")]
    MissingName { column: usize },

    #[error(
        "unsupported modifier {modifier:?} in ${{...}} at column {column}: \
         cratebox supports only :-, -, :+ and +"
    )]
    UnsupportedModifier { modifier: String, column: usize },
}

// ANCHOR: expand
/// Expand the variables in `word`, and remove its quotes and escapes.
///
/// `vars` looks a name up: `None` means unset, which differs from set to
/// the empty string only for the `-` and `+` modifiers. `escape` is the
/// Dockerfile's escape character (see [`crate::Dockerfile::escape`]).
pub fn expand(
    word: &str,
    vars: &impl Fn(&str) -> Option<String>,
    escape: char,
) -> Result<String, ExpandError> {
    let mut expander = Expander {
        chars: word.chars().collect(),
        pos: 0,
        vars,
        escape,
    };
    expander.until(None)
}
// ANCHOR_END: expand

/// A cursor over the word's characters.
struct Expander<'a, F> {
    chars: Vec<char>,
    pos: usize,
    vars: &'a F,
    escape: char,
}

impl<F: Fn(&str) -> Option<String>> Expander<'_, F> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += usize::from(c.is_some());
        c
    }

    /// Expand up to the end, or up to an unquoted `stop`, left unread.
    fn until(&mut self, stop: Option<char>) -> Result<String, ExpandError> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                break;
            }
            self.pos += 1;
            match c {
                // An escape at the very end of the word escapes nothing and
                // is dropped.
                c if c == self.escape => out.extend(self.next()),
                '\'' => self.single_quoted(&mut out)?,
                '"' => self.double_quoted(&mut out)?,
                '$' => self.dollar(&mut out)?,
                c => out.push(c),
            }
        }
        Ok(out)
    }

    /// After `'`: everything is literal up to the next `'`.
    fn single_quoted(&mut self, out: &mut String) -> Result<(), ExpandError> {
        let column = self.pos;
        loop {
            match self.next() {
                None => {
                    return Err(ExpandError::UnterminatedQuote {
                        quote: '\'',
                        column,
                    })
                }
                Some('\'') => return Ok(()),
                Some(c) => out.push(c),
            }
        }
    }

    /// After `"`: variables expand; the escape protects only `"`, `$` and
    /// itself, and is kept before anything else (`"C:\dir"` stays intact).
    fn double_quoted(&mut self, out: &mut String) -> Result<(), ExpandError> {
        let column = self.pos;
        loop {
            match self.next() {
                None => return Err(ExpandError::UnterminatedQuote { quote: '"', column }),
                Some('"') => return Ok(()),
                Some('$') => self.dollar(out)?,
                Some(c) if c == self.escape => match self.peek() {
                    Some(n) if n == '"' || n == '$' || n == self.escape => {
                        self.pos += 1;
                        out.push(n);
                    }
                    _ => out.push(c),
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// After `$`: a name, a `{...}`, or else a literal `$`.
    fn dollar(&mut self, out: &mut String) -> Result<(), ExpandError> {
        let column = self.pos;
        if self.peek() == Some('{') {
            self.pos += 1;
            return self.braced(out, column);
        }
        let name = self.name();
        if name.is_empty() {
            out.push('$');
        } else {
            out.extend(self.lookup(&name));
        }
        Ok(())
    }

    /// After `${`: `NAME}`, or `NAME`, a modifier, a word and `}`.
    fn braced(&mut self, out: &mut String, column: usize) -> Result<(), ExpandError> {
        let name = self.name();
        if name.is_empty() {
            return Err(match self.peek() {
                None => ExpandError::UnterminatedBrace { column },
                Some(_) => ExpandError::MissingName { column },
            });
        }
        let value = self.lookup(&name);
        let modifier = match self.next() {
            None => return Err(ExpandError::UnterminatedBrace { column }),
            Some('}') => {
                out.extend(value);
                return Ok(());
            }
            Some(':') => match self.next() {
                Some(m @ ('-' | '+')) => format!(":{m}"),
                Some(m) => {
                    return Err(ExpandError::UnsupportedModifier {
                        modifier: format!(":{m}"),
                        column,
                    })
                }
                None => return Err(ExpandError::UnterminatedBrace { column }),
            },
            // Name `##`, `%%` and `//` whole: they are docker's, not typos.
            Some(m @ ('#' | '%' | '/')) if self.peek() == Some(m) => format!("{m}{m}"),
            Some(m) => m.to_string(),
        };
        if modifier != "-" && modifier != "+" && !modifier.starts_with(':') {
            return Err(ExpandError::UnsupportedModifier { modifier, column });
        }
        let word = self.until(Some('}'))?;
        if self.next() != Some('}') {
            return Err(ExpandError::UnterminatedBrace { column });
        }
        let is_set = value.is_some();
        let is_full = value.as_deref().is_some_and(|v| !v.is_empty());
        out.push_str(&match modifier.as_str() {
            ":-" if is_full => value.unwrap_or_default(),
            "-" if is_set => value.unwrap_or_default(),
            ":-" | "-" => word,
            ":+" if is_full => word,
            "+" if is_set => word,
            _ => String::new(),
        });
        Ok(())
    }

    /// A variable name: letters, digits and `_`, not starting with a
    /// digit; or a run of digits (a positional parameter, never set here).
    fn name(&mut self) -> String {
        let start = self.pos;
        let digits = self.peek().is_some_and(|c| c.is_ascii_digit());
        while let Some(c) = self.peek() {
            let fits = if digits {
                c.is_ascii_digit()
            } else {
                c.is_alphanumeric() || c == '_'
            };
            if !fits {
                break;
            }
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn lookup(&self, name: &str) -> Option<String> {
        (self.vars)(name)
    }
}
