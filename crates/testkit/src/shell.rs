//! Just enough of the shell's grammar to tell which commands a script runs.
//!
//! The README, the book and the chapter demos run shell snippets in
//! containers (`sh -c 'bomb() { bomb | bomb & }; bomb; sleep 1; ps | wc -l'`),
//! and the demo image must offer every command they name. Reading them by
//! hand goes stale; this reads them the way `sh` does, as far as finding
//! command names needs: words with their quotes removed, `$(...)` inside
//! and outside double quotes, operators that end a command, redirections,
//! assignments, reserved words, and functions the script defines itself.
//! It is not a shell: no expansion, no here-documents, no `case` patterns.

use std::collections::BTreeSet;

/// One token of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A word, quotes removed; a `$(...)` in it is left as written.
    Word(String),
    /// An operator that ends a simple command: `;` `&` `|` `&&` `||`
    /// `(` `)` or a newline (as `"\n"`).
    End(String),
    /// A redirection (`>`, `>>`, `<`, `2>`...): the next word is its target.
    Redirect(String),
}

/// A script split into tokens, and the text inside every command
/// substitution (`$(...)`) met on the way; substitutions nested in those
/// are found by lexing their text in turn.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    pub substitutions: Vec<String>,
}

/// Split `script` into tokens as `sh` would. A `#` that starts a word
/// starts a comment; a backslash before a newline joins the lines.
pub fn lex(script: &str) -> Lexed {
    let chars: Vec<char> = script.chars().collect();
    let mut lexed = Lexed::default();
    let mut word = String::new();
    // A word may be empty but present: `''` is an argument.
    let mut in_word = false;
    let mut i = 0;
    let end_word = |word: &mut String, in_word: &mut bool, lexed: &mut Lexed| {
        if *in_word {
            lexed.tokens.push(Token::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => end_word(&mut word, &mut in_word, &mut lexed),
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '\\' => {
                match chars.get(i + 1) {
                    Some('\n') => {}
                    Some(&next) => {
                        word.push(next);
                        in_word = true;
                    }
                    None => {}
                }
                i += 2;
                continue;
            }
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    // Inside double quotes a backslash escapes only these;
                    // before anything else it is itself (`"\n"` is two characters).
                    let escaped = chars
                        .get(i + 1)
                        .filter(|n| matches!(n, '$' | '`' | '"' | '\\'));
                    if let (Some(&next), '\\') = (escaped, chars[i]) {
                        word.push(next);
                        i += 2;
                    } else if chars[i] == '$' && chars.get(i + 1) == Some(&'(') {
                        i = substitution(&chars, i, &mut word, &mut lexed);
                    } else {
                        word.push(chars[i]);
                        i += 1;
                    }
                }
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                in_word = true;
                i = substitution(&chars, i, &mut word, &mut lexed);
                continue;
            }
            ';' | '&' | '|' | '(' | ')' | '\n' => {
                end_word(&mut word, &mut in_word, &mut lexed);
                let doubled = (c == '&' || c == '|' || c == ';') && chars.get(i + 1) == Some(&c);
                let op: String = if doubled {
                    [c, c].iter().collect()
                } else {
                    c.to_string()
                };
                i += op.chars().count();
                lexed.tokens.push(Token::End(op));
                continue;
            }
            '<' | '>' => {
                // `2>` and `2>&1`: a number right before belongs to the operator.
                let fd = if word.chars().all(|d| d.is_ascii_digit()) && in_word {
                    std::mem::take(&mut word)
                } else {
                    end_word(&mut word, &mut in_word, &mut lexed);
                    String::new()
                };
                in_word = false;
                let mut op = fd;
                op.push(c);
                i += 1;
                while i < chars.len() && matches!(chars[i], '>' | '&') {
                    op.push(chars[i]);
                    i += 1;
                }
                // `>&1`: the target is glued on; `> file`: it is the next word.
                if op.ends_with('&') {
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        op.push(chars[i]);
                        i += 1;
                    }
                    lexed.tokens.push(Token::Redirect(op));
                    lexed.tokens.push(Token::Word(String::new()));
                } else {
                    lexed.tokens.push(Token::Redirect(op));
                }
                continue;
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
        i += 1;
    }
    end_word(&mut word, &mut in_word, &mut lexed);
    lexed
}

/// Read the `$(...)` that starts at `chars[start]`, append it to `word` as
/// written, record its inside, and return the index after its `)`.
/// `$((...))` is arithmetic, not a command, and is only copied.
fn substitution(chars: &[char], start: usize, word: &mut String, lexed: &mut Lexed) -> usize {
    let arithmetic = chars.get(start + 2) == Some(&'(');
    let mut depth = 0;
    let mut i = start + 1;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some('"'), '\\') => i += 1,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '\\') => i += 1,
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let end = i.min(chars.len());
    let text: String = chars[start..(end + 1).min(chars.len())].iter().collect();
    word.push_str(&text);
    if !arithmetic {
        lexed
            .substitutions
            .push(chars[(start + 2).min(end)..end].iter().collect());
    }
    end + 1
}

/// Words that start or end compound commands; the command is what follows.
const RESERVED: [&str; 11] = [
    "!", "{", "}", "if", "then", "else", "elif", "fi", "while", "until", "do",
];

/// The argument vectors of the simple commands in `script`, in order, with
/// assignments, redirections and reserved words taken out, followed by
/// those inside its command substitutions. Function definitions (`f() {`)
/// give no command, and calls of the functions the script defines are
/// dropped: they are not programs the image must have.
pub fn simple_commands(script: &str) -> Vec<Vec<String>> {
    let mut functions = BTreeSet::new();
    let mut commands = Vec::new();
    collect(script, &mut functions, &mut commands);
    commands.retain(|argv| !functions.contains(&argv[0]));
    commands
}

fn collect(script: &str, functions: &mut BTreeSet<String>, commands: &mut Vec<Vec<String>>) {
    let lexed = lex(script);
    let mut argv: Vec<String> = Vec::new();
    let mut tokens = lexed.tokens.iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            Token::Word(word) if argv.is_empty() => {
                if is_assignment(word) || RESERVED.contains(&word.as_str()) || word == "done" {
                    continue;
                }
                if word == "for" || word == "case" {
                    // `for x in a b; do`: nothing runs until `do`.
                    while tokens.next_if(|t| !matches!(t, Token::End(_))).is_some() {}
                    continue;
                }
                if tokens.peek() == Some(&&Token::End("(".to_string())) {
                    functions.insert(word.clone());
                    tokens.next();
                    tokens.next_if(|t| t == &&Token::End(")".to_string()));
                    continue;
                }
                argv.push(word.clone());
            }
            Token::Word(word) => argv.push(word.clone()),
            Token::Redirect(_) => {
                tokens.next_if(|t| matches!(t, Token::Word(_)));
            }
            Token::End(_) => {
                if !argv.is_empty() {
                    commands.push(std::mem::take(&mut argv));
                }
            }
        }
    }
    if !argv.is_empty() {
        commands.push(argv);
    }
    for inside in &lexed.substitutions {
        collect(inside, functions, commands);
    }
}

/// `NAME=value`, which sets a variable rather than naming a command.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// The programs an argument vector runs: its first word, and the commands
/// inside it when that is `sh -c SCRIPT`, `timeout DURATION COMMAND...` or
/// `exec COMMAND...`. Names are returned as written (`/bin/sh`, `ls`).
pub fn programs_of(argv: &[String]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let Some(first) = argv.first() else {
        return found;
    };
    let name = first.rsplit('/').next().unwrap_or(first);
    match name {
        "exec" => return programs_of(&argv[1..]),
        "timeout" => {
            found.insert(first.clone());
            // Options (with their values), then the duration, then the command.
            let mut rest = argv[1..].iter().peekable();
            while let Some(option) = rest.next_if(|a| a.starts_with('-')) {
                if option == "-s" || option == "-k" {
                    rest.next();
                }
            }
            rest.next();
            let command: Vec<String> = rest.cloned().collect();
            found.extend(programs_of(&command));
            return found;
        }
        "sh" if argv.get(1).map(String::as_str) == Some("-c") => {
            found.insert(first.clone());
            if let Some(script) = argv.get(2) {
                found.extend(programs_in(script));
            }
            return found;
        }
        _ => {}
    }
    found.insert(first.clone());
    found
}

/// Every program `script` runs: [`programs_of`] each of its
/// [`simple_commands`].
pub fn programs_in(script: &str) -> BTreeSet<String> {
    simple_commands(script)
        .iter()
        .flat_map(|argv| programs_of(argv))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(script: &str) -> String {
        simple_commands(script)
            .iter()
            .map(|argv| argv.join(" · "))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_chapter_demos_and_readme_snippets_split_as_sh_splits_them() {
        let demo = r#"
echo "inside the chroot, / holds: $(ls / | tr '\n' ' ')"
if kill -0 1 2>/dev/null; then
  echo "pid 1 answers kill -0"
fi
"#;
        insta::assert_snapshot!(show(demo), @r#"
        echo · inside the chroot, / holds: $(ls / | tr '\n' ' ')
        kill · -0 · 1
        echo · pid 1 answers kill -0
        ls · /
        tr · \n ·  
        "#);
        insta::assert_snapshot!(
            show("bomb() { bomb | bomb & }; bomb; sleep 1; ps | wc -l"),
            @r"
        sleep · 1
        ps
        wc · -l
        "
        );
        insta::assert_snapshot!(
            show("X=1 for_real=2 env >out; for ns in *; do printf '%s' \"$(readlink \"$ns\" | tr -dc 0-9)\"; done # ls"),
            @r#"
        env
        printf · %s · $(readlink "$ns" | tr -dc 0-9)
        readlink · $ns
        tr · -dc · 0-9
        "#
        );
    }

    #[test]
    fn quotes_and_escapes_come_out_as_sh_reads_them() {
        let lexed = lex(r#"printf "a\nb \$x \"q\"" 'it''s' \; 2>&1 >>log"#);
        insta::assert_debug_snapshot!(lexed.tokens, @r#"
        [
            Word(
                "printf",
            ),
            Word(
                "a\\nb $x \"q\"",
            ),
            Word(
                "its",
            ),
            Word(
                ";",
            ),
            Redirect(
                "2>&1",
            ),
            Word(
                "",
            ),
            Redirect(
                ">>",
            ),
            Word(
                "log",
            ),
        ]
        "#);
    }

    #[test]
    fn wrappers_name_the_commands_they_run() {
        let argv: Vec<String> = [
            "timeout",
            "-s",
            "KILL",
            "2",
            "sh",
            "-c",
            "while :; do :; done; exec cat x",
        ]
        .map(String::from)
        .to_vec();
        let found: Vec<String> = programs_of(&argv).into_iter().collect();
        assert_eq!(found, [":", "cat", "sh", "timeout"]);
        let found: Vec<String> = programs_in("echo $(( 1 + 2 )) && /bin/echo \\\n  a || true")
            .into_iter()
            .collect();
        assert_eq!(found, ["/bin/echo", "echo", "true"]);
    }
}
