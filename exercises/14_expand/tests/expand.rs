//! Exercise 14's tests: tables of words with what each expands to, and the
//! same results as cratebox's own `expand` on every one of them.

#[cfg(not(feature = "solution"))]
use ex14_expand as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/14_expand.rs"]
mod subject;

use subject::{expand, Vars};

/// The variables every case sees. `NOPE` is not among them: it is unset.
fn vars() -> Vars {
    [
        ("NAME", "world"),
        ("HOME", "/root"),
        ("EMPTY", ""),
        ("SPACE", "a b"),
        // A value is inserted as it is, never expanded a second time.
        ("RAW", r#"$HOME 'q' "d" \x"#),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .collect()
}

/// `$NAME` and `${NAME}`, set, empty and unset, and what a name is.
const VARIABLES: &[&str] = &[
    "hello",
    "$NAME",
    "${NAME}",
    "hello, $NAME!",
    "$HOME/app",
    "$NAME$HOME",
    "${NAME}s",
    "$NAME_x",
    "${NAME}_x",
    "$NAME-x",
    "$EMPTY",
    "[$EMPTY]",
    "$NOPE",
    "[${NOPE}]",
    "${SPACE}",
    "$RAW",
    "cost: $ 5",
    "a$",
    "$$",
    "100%",
];

/// The four modifiers, on a variable that is set, one set to "", and one
/// that is unset.
const MODIFIERS: &[&str] = &[":-", "-", ":+", "+"];
const SUBJECTS: &[&str] = &["NAME", "EMPTY", "NOPE"];

/// Modifier words that hold more than plain text.
const WORDS: &[&str] = &[
    "${NOPE:-$HOME/default}",
    "${NOPE:-${NAME:-x}}",
    "${NOPE:-${EMPTY:-inner}}",
    r#"${NOPE:-"a b"}"#,
    "${NOPE:-'$NAME'}",
    r#"${NOPE:-"}"}"#,
    r"${NOPE:-\}}",
    "${NAME:+--name=$NAME}",
    "${EMPTY:+--name=$EMPTY}",
    "${NOPE-}",
    "x${NOPE:-y}z",
];

/// Quotes and escapes, outside and inside double quotes.
const QUOTES: &[&str] = &[
    "'$NAME'",
    r#""$NAME""#,
    r#""hello $NAME""#,
    r#""$SPACE""#,
    "'it''s'",
    r#""it's""#,
    r#"'say "hi"'"#,
    r#"a"b c"d"#,
    r"\$NAME",
    r"\\$NAME",
    r"a\ b",
    r"\'x",
    r#"\"x"#,
    r#""\$NAME""#,
    r#""a\"b""#,
    r#""C:\dir""#,
    r#""\\""#,
    r"'\$NAME'",
    r"x\",
    r#""${NOPE:-$NAME}""#,
    r#""${NAME:+'$NAME'}""#,
    "''",
    r#""""#,
];

/// One line per word: the word, then what it expands to.
fn table(words: &[String]) -> String {
    let vars = vars();
    words
        .iter()
        .map(|word| format!("{:<28} -> {:?}\n", format!("{word:?}"), expand(word, &vars)))
        .collect()
}

fn owned(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// `${NAME:-x}`, `${NAME-x}`, ... for each modifier and variable.
fn modifier_words() -> Vec<String> {
    MODIFIERS
        .iter()
        .flat_map(|m| SUBJECTS.iter().map(move |name| format!("${{{name}{m}x}}")))
        .collect()
}

/// Every word the tests use.
fn all_words() -> Vec<String> {
    let mut all = owned(VARIABLES);
    all.extend(modifier_words());
    all.extend(owned(WORDS));
    all.extend(owned(QUOTES));
    all
}

#[test]
fn variables() {
    insta::assert_snapshot!(table(&owned(VARIABLES)));
}

#[test]
fn modifiers_on_set_empty_and_unset() {
    let vars = vars();
    let mut text = format!("{:<12}", "");
    for name in SUBJECTS {
        let heading = match vars.get(*name) {
            Some(value) => format!("{name}={value:?}"),
            None => format!("{name} unset"),
        };
        text += &format!("{heading:<16}");
    }
    text = text.trim_end().to_string() + "\n";
    for m in MODIFIERS {
        let mut row = format!("{:<12}", format!("${{VAR{m}x}}"));
        for name in SUBJECTS {
            let word = format!("${{{name}{m}x}}");
            row += &format!("{:<16}", format!("{:?}", expand(&word, &vars)));
        }
        text += row.trim_end();
        text += "\n";
    }
    insta::assert_snapshot!(text);
}

#[test]
fn words_inside_modifiers() {
    insta::assert_snapshot!(table(&owned(WORDS)));
}

#[test]
fn quotes_and_escapes() {
    insta::assert_snapshot!(table(&owned(QUOTES)));
}

#[test]
fn agrees_with_cratebox() {
    let vars = vars();
    let lookup = |name: &str| vars.get(name).cloned();
    for word in all_words() {
        let theirs = cratebox_dockerfile::expand(&word, &lookup, '\\')
            .unwrap_or_else(|e| panic!("cratebox expands {word:?}: {e}"));
        assert_eq!(expand(&word, &vars), theirs, "word {word:?}");
    }
}

#[test]
fn unset_and_empty_differ_only_without_the_colon() {
    let vars = vars();
    assert_eq!(expand("${EMPTY:-x}", &vars), "x");
    assert_eq!(expand("${NOPE:-x}", &vars), "x");
    assert_eq!(expand("${EMPTY-x}", &vars), "");
    assert_eq!(expand("${NOPE-x}", &vars), "x");
    assert_eq!(expand("${EMPTY:+x}", &vars), "");
    assert_eq!(expand("${EMPTY+x}", &vars), "x");
    assert_eq!(expand("${NOPE+x}", &vars), "");
}
