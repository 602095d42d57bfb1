//! Property tests: whatever the text, `parse` and `expand` return a value
//! or an error; they never panic, and an error always has a position.

use cratebox_dockerfile::{expand, parse};
use proptest::prelude::*;

/// Text likely to reach the parser's corners: keywords, escapes, quotes,
/// brackets, `$`, `{`, newlines, mixed with any character at all.
fn dockerfile_like() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("FROM ".to_string()),
        Just("from a AS b\n".to_string()),
        Just("RUN ".to_string()),
        Just("COPY --from=".to_string()),
        Just("ENV ".to_string()),
        Just("EXPOSE ".to_string()),
        Just("ONBUILD ".to_string()),
        Just("<<EOF".to_string()),
        Just("# escape=`\n".to_string()),
        Just("\\\n".to_string()),
        Just("`\r\n".to_string()),
        Just("[\"".to_string()),
        Just("\"]".to_string()),
        Just("${".to_string()),
        Just(":-".to_string()),
        Just("=".to_string()),
        Just("'".to_string()),
        Just("\n".to_string()),
        any::<char>().prop_map(String::from),
        "\\PC{0,8}",
        "[\\x00-\\x1f\\x7f\u{feff}\u{2028}\u{0085}é日]{0,4}",
    ];
    prop::collection::vec(pieces, 0..40).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_on_any_string(text in any::<String>()) {
        if let Err(e) = parse(&text) {
            prop_assert!(e.line >= 1 && e.column >= 1);
        }
    }

    #[test]
    fn parse_never_panics_on_dockerfile_like_text(text in dockerfile_like()) {
        if let Err(e) = parse(&text) {
            prop_assert!(e.line >= 1 && e.column >= 1);
            prop_assert!(e.line <= text.split('\n').count());
        }
    }

    #[test]
    fn parse_trigger_never_panics(text in dockerfile_like()) {
        if let Err(e) = cratebox_dockerfile::parse_trigger(&text) {
            prop_assert!(e.line >= 1 && e.column >= 1);
        }
    }

    #[test]
    fn expand_never_panics(word in dockerfile_like(), backtick in any::<bool>()) {
        // Names starting with an uppercase letter are set, the rest unset.
        let vars = |name: &str| {
            name.starts_with(|c: char| c.is_uppercase()).then(|| name.to_lowercase())
        };
        let escape = if backtick { '`' } else { '\\' };
        let _ = expand(&word, &vars, escape);
    }
}
