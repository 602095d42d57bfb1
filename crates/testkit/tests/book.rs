//! The book never drifts from the code: every `{{#include}}` in book/src
//! must name a file that exists and, when it names an anchor, a file that
//! has both `ANCHOR: name` and `ANCHOR_END: name`. mdBook itself only warns
//! about a broken include, so this test is what makes CI fail on one.

use std::fs;
use std::path::{Path, PathBuf};

fn book_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src")
}

fn markdown_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).expect("book/src is readable");
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            markdown_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
}

/// Every `{{#include ...}}` / `{{#rustdoc_include ...}}` argument in `text`.
fn includes(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{#") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let directive = after[..end].trim();
        if let Some(arg) = directive
            .strip_prefix("include ")
            .or_else(|| directive.strip_prefix("rustdoc_include "))
        {
            found.push(arg.trim().to_string());
        }
        rest = &after[end..];
    }
    found
}

#[test]
fn every_include_in_the_book_resolves() {
    let mut pages = Vec::new();
    markdown_files(&book_src(), &mut pages);
    assert!(pages.len() >= 4, "the book has chapters: {pages:?}");
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in &pages {
        let text = fs::read_to_string(page).unwrap();
        for arg in includes(&text) {
            checked += 1;
            let (file, selector) = match arg.split_once(':') {
                Some((file, selector)) => (file, Some(selector)),
                None => (arg.as_str(), None),
            };
            let path = page.parent().unwrap().join(file);
            let Ok(source) = fs::read_to_string(&path) else {
                problems.push(format!("{}: {file} does not exist", page.display()));
                continue;
            };
            // A selector that is not a line number or range is an anchor.
            if let Some(anchor) = selector.filter(|s| {
                !s.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit() || c == ':')
            }) {
                // In code, `// ANCHOR: name`; in Markdown, an HTML
                // comment, `<!-- ANCHOR: name -->`.
                let has = |marker: &str| {
                    source.lines().any(|l| {
                        let l = l.trim_end();
                        let l = l.strip_suffix("-->").map_or(l, str::trim_end);
                        l.ends_with(&format!("{marker}: {anchor}"))
                    })
                };
                if !has("ANCHOR") || !has("ANCHOR_END") {
                    problems.push(format!(
                        "{}: anchor {anchor:?} missing in {file}",
                        page.display()
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken includes:\n{}",
        problems.join("\n")
    );
    assert!(
        checked > 0,
        "no includes found: the book should show real code"
    );
}

#[test]
fn includes_are_found_in_text() {
    let text = "a {{#include ../x.rs:anchor}} b {{#include out.txt}} {{#title t}}";
    assert_eq!(includes(text), ["../x.rs:anchor", "out.txt"]);
}
