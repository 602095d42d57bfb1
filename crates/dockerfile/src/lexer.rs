//! From text to logical lines: directives, comments and continuations.
//!
//! A Dockerfile is read in two passes, and this is the first. It knows
//! nothing about instructions; it turns the physical lines of the file into
//! *logical* lines, one per instruction:
//!
//! 1. **Parser directives.** Lines of the form `# name=value` at the very
//!    top. `` # escape=` `` picks the escape character (Windows users want
//!    the backtick, because `\` is their path separator); `# syntax=` names a
//!    BuildKit frontend image and is accepted and ignored here. The first
//!    line that is not a known directive (a comment, a blank line, an
//!    instruction, even an unknown directive) ends the directives: anything
//!    that looks like one later is just a comment.
//! 2. **Comments and blank lines.** A line whose first non-blank character
//!    is `#` is a comment. There are no trailing comments: in
//!    `RUN echo hi # there` the `#` is part of the command, for the shell.
//! 3. **Continuations.** A line ending in the escape character (spaces and
//!    tabs after it allowed) continues on the next line. The escape is
//!    dropped and the lines are joined *without* a newline. Comment lines
//!    and empty lines in the middle of a continued instruction are skipped,
//!    so a long `RUN` can carry comments between its lines. An escaped
//!    escape (`\\` at the end) is a plain character and continues nothing.
//!
//! Each logical line remembers which physical line and column each of its
//! pieces came from, so that an error found later in the joined text can
//! still point at the right place in the file.

use crate::error::{ParseError, ParseErrorKind};

/// The escape character when no `# escape=` directive says otherwise.
pub const DEFAULT_ESCAPE: char = '\\';

/// The result of lexing: the escape character in force, and the
/// instructions' logical lines in order.
#[derive(Debug)]
pub(crate) struct Lexed {
    pub escape: char,
    pub lines: Vec<LogicalLine>,
}

/// One instruction's text, possibly joined from several physical lines.
#[derive(Debug)]
pub(crate) struct LogicalLine {
    /// The joined text, without continuation characters.
    pub text: String,
    /// Where each piece of `text` came from. Never empty.
    pieces: Vec<Piece>,
}

/// A run of `LogicalLine::text` copied from one physical line.
#[derive(Debug, Clone, Copy)]
struct Piece {
    /// Byte offset in the joined text where this piece starts.
    offset: usize,
    /// The physical line it came from (1-based).
    line: usize,
    /// The character column (1-based) its first character had there.
    column: usize,
}

impl LogicalLine {
    fn new() -> Self {
        LogicalLine {
            text: String::new(),
            pieces: Vec::new(),
        }
    }

    fn push(&mut self, piece: &str, line: usize, column: usize) {
        self.pieces.push(Piece {
            offset: self.text.len(),
            line,
            column,
        });
        self.text.push_str(piece);
    }

    /// The physical line the instruction starts on.
    pub fn line(&self) -> usize {
        self.pieces.first().map_or(1, |p| p.line)
    }

    /// The physical line and column of byte `offset` in the joined text.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        // The last piece starting at or before the offset holds it; a piece
        // that is empty (a lone escape on a line) is skipped over this way.
        let Some(piece) = self.pieces.iter().rev().find(|p| p.offset <= offset) else {
            return (1, 1);
        };
        let before = self
            .text
            .get(piece.offset..offset)
            .map_or(0, |s| s.chars().count());
        (piece.line, piece.column + before)
    }

    /// The text from byte `offset` on, still mapped to the file: ONBUILD
    /// parses its trigger as a line of its own, and the trigger's errors
    /// must point into the ONBUILD line.
    pub fn tail(&self, offset: usize) -> LogicalLine {
        let (line, column) = self.position(offset);
        let mut pieces = vec![Piece {
            offset: 0,
            line,
            column,
        }];
        pieces.extend(
            self.pieces
                .iter()
                .filter(|p| p.offset > offset)
                .map(|p| Piece {
                    offset: p.offset - offset,
                    ..*p
                }),
        );
        LogicalLine {
            text: self.text.get(offset..).unwrap_or_default().to_string(),
            pieces,
        }
    }

    /// An error located at byte `offset` of the joined text.
    pub fn error(&self, offset: usize, kind: ParseErrorKind) -> ParseError {
        let (line, column) = self.position(offset);
        ParseError { line, column, kind }
    }
}

/// Split `text` into logical lines, reading the parser directives first.
pub(crate) fn lex(text: &str) -> Result<Lexed, ParseError> {
    // Editors on Windows may start the file with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let physical: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();

    let (escape, first_line) = directives(&physical)?;

    let mut lines = Vec::new();
    let mut next = first_line;
    while let Some(&raw) = physical.get(next) {
        next += 1;
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut logical = LogicalLine::new();
        let (piece, mut continued) = strip_continuation(trimmed, escape);
        logical.push(piece, next, column_of(raw, trimmed));

        while continued {
            let Some(&raw) = physical.get(next) else {
                break;
            };
            next += 1;
            let trimmed = raw.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            // Continuation lines keep their leading blanks: they separate
            // words, as in `apt-get install \` / `    curl`.
            let (piece, more) = strip_continuation(raw, escape);
            logical.push(piece, next, 1);
            continued = more;
        }

        // A line that was nothing but an escape joins the next one; only a
        // file that ends that way leaves nothing behind.
        if !logical.text.trim().is_empty() {
            lines.push(logical);
        }
    }
    Ok(Lexed { escape, lines })
}

/// Read the directives at the top: the escape character, and the index of
/// the first physical line that is not a directive.
fn directives(physical: &[&str]) -> Result<(char, usize), ParseError> {
    let mut escape = DEFAULT_ESCAPE;
    let mut seen: Vec<String> = Vec::new();
    let mut index = 0;
    while let Some(&raw) = physical.get(index) {
        let Some((name, value)) = directive(raw) else {
            break;
        };
        let error = |kind| ParseError {
            line: index + 1,
            column: column_of(raw, raw.trim_start()),
            kind,
        };
        if seen.contains(&name) {
            return Err(error(ParseErrorKind::DuplicateDirective(name)));
        }
        match name.as_str() {
            "escape" => {
                escape = match value {
                    "\\" => '\\',
                    "`" => '`',
                    other => return Err(error(ParseErrorKind::InvalidEscape(other.to_string()))),
                };
            }
            // `syntax` picks a frontend image and `check` configures
            // BuildKit's linter; neither changes how the text is read.
            "syntax" | "check" => {}
            _ => break,
        }
        seen.push(name);
        index += 1;
    }
    Ok((escape, index))
}

/// `# name=value` split into a lowercased name and a trimmed value.
fn directive(raw: &str) -> Option<(String, &str)> {
    let body = raw.trim_start().strip_prefix('#')?;
    let (name, value) = body.split_once('=')?;
    let name = name.trim();
    let mut chars = name.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !starts_with_letter || !chars.all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    Some((name.to_ascii_lowercase(), value))
}

/// The line without its trailing escape (and blanks after it), and whether
/// there was one.
///
/// An escape that is itself escaped is a character, not a continuation:
/// `ENV C trailing\\backslash\\` sets C to a value that ends in a
/// backslash, and the next line is an instruction of its own. Docker decides
/// this with a regular expression that accepts the escape only after a
/// character that is not an escape (or alone on its line), so a run of two
/// or more escapes at the end never continues, not even three, which a
/// shell would read as an escaped escape and then a continuation. Docker's
/// source admits that case as a known gap; cratebox follows docker rather
/// than the shell, so that a Dockerfile means the same to both.
fn strip_continuation(line: &str, escape: char) -> (&str, bool) {
    let end = line.trim_end_matches([' ', '\t']);
    match end.strip_suffix(escape) {
        Some(kept) if !kept.ends_with(escape) => (kept, true),
        _ => (line, false),
    }
}

/// The 1-based column at which `suffix`, a tail of `line`, starts.
fn column_of(line: &str, suffix: &str) -> usize {
    line.chars().count() - suffix.chars().count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(source: &str) -> Vec<String> {
        match lex(source) {
            Ok(lexed) => lexed.lines.into_iter().map(|l| l.text).collect(),
            Err(e) => vec![e.to_string()],
        }
    }

    #[test]
    fn trailing_hash_is_not_a_comment() {
        assert_eq!(texts("RUN echo hi # there\n"), ["RUN echo hi # there"]);
    }

    #[test]
    fn continuation_allows_blanks_after_the_escape() {
        assert_eq!(texts("RUN a \\  \n b\n"), ["RUN a  b"]);
    }

    #[test]
    fn an_escaped_escape_at_the_end_is_not_a_continuation() {
        assert_eq!(
            texts("ENV C trailing\\\\backslash\\\\\nENV D not appended\n"),
            ["ENV C trailing\\\\backslash\\\\", "ENV D not appended"]
        );
        assert_eq!(
            texts("# escape=`\nRUN dir c:\\ ``\nRUN echo next\n"),
            ["RUN dir c:\\ ``", "RUN echo next"]
        );
    }

    #[test]
    fn a_lone_escape_on_a_line_still_continues() {
        assert_eq!(texts("RUN a\\\n\\\n b\n"), ["RUN a b"]);
    }

    #[test]
    fn comments_and_blank_lines_inside_a_continuation_are_skipped() {
        assert_eq!(texts("RUN a \\\n# note\n\n   \n  b\n"), ["RUN a   b"]);
    }

    #[test]
    fn windows_line_endings_and_a_byte_order_mark_are_accepted() {
        assert_eq!(
            texts("\u{feff}FROM a\r\nRUN b \\\r\n c\r\n"),
            ["FROM a", "RUN b  c"]
        );
    }

    #[test]
    fn a_directive_after_a_comment_is_a_comment() {
        let lexed = lex("# hello\n# escape=`\nRUN a \\\nRUN b\n");
        assert_eq!(lexed.map(|l| l.escape).ok(), Some('\\'));
    }

    #[test]
    fn a_tail_keeps_the_positions_of_its_pieces() {
        let lexed = lex("ONBUILD COPY a \\\n     b c\n").ok();
        let tail = lexed
            .as_ref()
            .and_then(|l| l.lines.first())
            .map(|l| l.tail(8));
        assert_eq!(
            tail.as_ref().map(|t| t.text.as_str()),
            Some("COPY a      b c")
        );
        assert_eq!(tail.as_ref().map(|t| t.position(0)), Some((1, 9)));
        let offset = tail.as_ref().and_then(|t| t.text.find('c'));
        assert_eq!(tail.zip(offset).map(|(t, o)| t.position(o)), Some((2, 8)));
    }

    #[test]
    fn position_maps_back_through_continuations() {
        let lexed = lex("COPY a \\\n     b c\n").ok();
        let line = lexed.as_ref().and_then(|l| l.lines.first());
        let offset = line.and_then(|l| l.text.find('c'));
        assert_eq!(line.zip(offset).map(|(l, o)| l.position(o)), Some((2, 8)));
    }
}
