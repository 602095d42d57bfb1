//! Variable expansion, case by case.

use cratebox_dockerfile::expand;

/// The variables every case sees: `HOME` and `EMPTY` (set, but empty).
fn vars(name: &str) -> Option<String> {
    match name {
        "HOME" => Some("/root".to_string()),
        "EMPTY" => Some(String::new()),
        "v" => Some("3.20".to_string()),
        _ => None,
    }
}

fn show(word: &str, escape: char) -> String {
    match expand(word, &vars, escape) {
        Ok(expanded) => format!("{word:<28} => {expanded:?}"),
        Err(e) => format!("{word:<28} => error: {e}"),
    }
}

#[test]
fn expansion_cases() {
    let cases = [
        "$HOME/app",
        "${HOME}_suffix",
        "$HOMEX",
        "$UNSET-and-on",
        "${UNSET:-fallback}",
        "${EMPTY:-fallback}",
        "${EMPTY-fallback}",
        "${HOME:-fallback}",
        "${HOME:+alternate}",
        "${EMPTY:+alternate}",
        "${EMPTY+alternate}",
        "${UNSET:+alternate}",
        "${UNSET:-$HOME/default}",
        "${UNSET:-${ALSO_UNSET:-deep}}",
        "alpine:${v}",
        "\\$HOME",
        "\\${HOME}",
        "'$HOME is literal'",
        "\"$HOME and spaces\"",
        "\"quote \\\" and \\$ escaped\"",
        "\"C:\\dir keeps its backslash\"",
        "a\\ b",
        "price: $5",
        "$ alone",
        "100%$",
        "trailing escape\\",
        "${UNSET:-\"a } inside quotes\"}",
    ];
    let report: Vec<String> = cases.iter().map(|w| show(w, '\\')).collect();
    insta::assert_snapshot!(report.join("\n"));
}

#[test]
fn expansion_errors() {
    let cases = [
        "${HOME",
        "${HOME:-default",
        "x${",
        "${}",
        "${:-x}",
        "${HOME?required}",
        "${HOME:?required}",
        "${HOME#prefix}",
        "'unterminated",
        "\"unterminated $HOME",
    ];
    let report: Vec<String> = cases.iter().map(|w| show(w, '\\')).collect();
    insta::assert_snapshot!(report.join("\n"));
}

#[test]
fn with_backtick_escape_backslashes_are_plain() {
    assert_eq!(
        expand("C:\\app\\$HOME", &vars, '`').ok().as_deref(),
        Some("C:\\app\\/root")
    );
    assert_eq!(expand("`$HOME", &vars, '`').ok().as_deref(), Some("$HOME"));
}
