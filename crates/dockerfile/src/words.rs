//! Splitting an instruction's arguments into words.
//!
//! Dockerfile instructions do not share one grammar; each splits its
//! arguments its own way, and this file holds the few ways there are:
//!
//! - [`fields`]: on blanks, ignoring quotes (`FROM`, `EXPOSE`, and the
//!   non-JSON forms of `COPY`, `ADD` and `VOLUME`). Quotes stay in the
//!   words, and are removed later when the builder expands them.
//! - [`quoted_words`]: on blanks outside quotes, so `k="v 2"` is one word
//!   (`ENV`, `LABEL`, `ARG`). Quotes and escapes are kept here too, because
//!   they decide what the expansion does: `'$HOME'` stays as written.
//! - [`flags`]: the `--name=value` words at the start (`COPY --from=build`).
//! - [`json_array`]: the exec form, `["executable", "arg"]`.
//!
//! Every word comes with its byte offset in the logical line, so that an
//! error about a word can point at its column.

/// A word and the byte offset where it starts.
pub(crate) type Word<'a> = (usize, &'a str);

/// `text` split on runs of whitespace; `base` is `text`'s own offset.
pub(crate) fn fields(text: &str, base: usize) -> Vec<Word<'_>> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                words.push((base + s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((base + s, &text[s..]));
    }
    words
}

/// `text` split on whitespace outside quotes, keeping quotes and escapes.
///
/// The escape character protects the character after it (a blank, a
/// quote); inside single quotes nothing is special but the closing quote.
/// An unterminated quote runs to the end of the text: the expansion will
/// report it, with the word in hand.
pub(crate) fn quoted_words(text: &str, base: usize, escape: char) -> Vec<(usize, String)> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if quote.is_none() && c.is_whitespace() {
            if let Some(s) = start.take() {
                words.push((base + s, std::mem::take(&mut word)));
            }
            continue;
        }
        start.get_or_insert(i);
        word.push(c);
        match quote {
            _ if c == escape && quote != Some('\'') => {
                if let Some((_, next)) = chars.next() {
                    word.push(next);
                }
            }
            None if c == '"' || c == '\'' => quote = Some(c),
            Some(q) if c == q => quote = None,
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((base + s, word));
    }
    words
}

/// The first word of `text` that starts a heredoc, as docker recognises
/// one: optional digits (a file descriptor), `<<`, an optional `-`, and a
/// delimiter with no `<` in it. Words are split as by [`quoted_words`],
/// with `\` as the escape whatever the file says, as docker does; so
/// `"<<EOF"` in quotes and `<<<` (a here-string) start nothing.
pub(crate) fn heredoc(text: &str, base: usize) -> Option<(usize, String)> {
    if !text.contains("<<") {
        return None;
    }
    quoted_words(text, base, '\\')
        .into_iter()
        .find(|(_, word)| {
            let after_digits = word.trim_start_matches(|c: char| c.is_ascii_digit());
            after_digits.strip_prefix("<<").is_some_and(|rest| {
                let delimiter = rest.strip_prefix('-').unwrap_or(rest);
                !delimiter.is_empty() && !delimiter.contains('<')
            })
        })
}

/// A `--name=value` flag before an instruction's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flag<'a> {
    pub offset: usize,
    pub name: &'a str,
    /// `None` for a bare `--name`.
    pub value: Option<&'a str>,
}

/// Take the leading flags off `text`: the flags, and the rest with its
/// offset. A lone `--` ends the flags, as it does for command-line tools.
pub(crate) fn flags(text: &str, base: usize) -> (Vec<Flag<'_>>, usize, &str) {
    let mut found = Vec::new();
    let mut rest = text;
    let mut offset = base;
    loop {
        let trimmed = rest.trim_start();
        offset += rest.len() - trimmed.len();
        rest = trimmed;
        let Some(body) = rest.strip_prefix("--") else {
            break;
        };
        let end = body.find(char::is_whitespace).unwrap_or(body.len());
        let word = &body[..end];
        let flag_offset = offset;
        offset += 2 + end;
        rest = &body[end..];
        if word.is_empty() {
            break;
        }
        let (name, value) = match word.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (word, None),
        };
        found.push(Flag {
            offset: flag_offset,
            name,
            value,
        });
    }
    let trimmed = rest.trim_start();
    offset += rest.len() - trimmed.len();
    (found, offset, trimmed)
}

/// What a would-be exec form turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JsonArray {
    /// A JSON array of strings: the exec form.
    Strings(Vec<String>),
    /// Valid JSON array, but not all strings: docker rejects this rather
    /// than guess, and so do we.
    NotStrings,
    /// Not a JSON array at all: the text is meant as the shell form.
    NotJson,
}

/// Read `text` as a JSON array of strings, the way docker decides between
/// exec and shell form: `["a", "b"]` is exec form, `["a", b]` is not JSON
/// and so is a shell command, and `["a", 1]` is an error.
pub(crate) fn json_array(text: &str) -> JsonArray {
    if !text.trim_start().starts_with('[') {
        return JsonArray::NotJson;
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                serde_json::Value::String(s) => Some(s),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map_or(JsonArray::NotStrings, JsonArray::Strings),
        _ => JsonArray::NotJson,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_offsets() {
        assert_eq!(fields(" a  bc ", 10), [(11, "a"), (14, "bc")]);
    }

    #[test]
    fn quoted_words_keep_quoted_blanks_together() {
        let words: Vec<String> = quoted_words(r#"a="x y" b='p q' c=d\ e"#, 0, '\\')
            .into_iter()
            .map(|(_, w)| w)
            .collect();
        assert_eq!(words, [r#"a="x y""#, "b='p q'", r"c=d\ e"]);
    }

    #[test]
    fn flags_stop_at_the_first_other_word() {
        let (found, offset, rest) = flags("--from=build --chown=1:1 a --b", 5);
        let names: Vec<_> = found.iter().map(|f| (f.name, f.value)).collect();
        assert_eq!(names, [("from", Some("build")), ("chown", Some("1:1"))]);
        assert_eq!((offset, rest), (30, "a --b"));
    }

    #[test]
    fn a_bare_double_dash_ends_the_flags() {
        let (found, _, rest) = flags("-- --not-a-flag", 0);
        assert!(found.is_empty());
        assert_eq!(rest, "--not-a-flag");
    }

    #[test]
    fn heredocs_are_found_as_docker_finds_them() {
        let found = |text: &str| heredoc(text, 0);
        assert_eq!(found("cat <<EOF"), Some((4, "<<EOF".to_string())));
        assert_eq!(found("<<-EOT sh"), Some((0, "<<-EOT".to_string())));
        assert_eq!(found("cat 3<<'END' x"), Some((4, "3<<'END'".to_string())));
        assert_eq!(found("echo \"<<EOF\""), None);
        assert_eq!(found("cat <<<word"), None);
        assert_eq!(found("echo $((1<<2))"), None);
        assert_eq!(found("cat << EOF"), None);
    }

    #[test]
    fn json_decides_exec_or_shell() {
        assert_eq!(
            json_array(r#"["a", "b"]"#),
            JsonArray::Strings(vec!["a".into(), "b".into()])
        );
        assert_eq!(json_array(r#"["a", b]"#), JsonArray::NotJson);
        assert_eq!(json_array(r#"["a", 1]"#), JsonArray::NotStrings);
        assert_eq!(json_array("echo [x]"), JsonArray::NotJson);
    }
}
