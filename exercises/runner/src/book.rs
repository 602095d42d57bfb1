//! The book's sections, as mdBook names them: each exercise's `section` in
//! info.toml is a page and the anchor of one of its headings.

use std::collections::BTreeMap;

use crate::exercises::{Exercise, Workspace};

/// The anchor mdBook gives a heading: its text lowercased, each blank a
/// `-`, letters, digits, `_` and `-` kept, everything else dropped
/// (`` Getting inside: `exec` `` is `getting-inside-exec`).
pub fn anchor_of(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// The anchors of every heading of a Markdown page, in order: the id a
/// heading gives itself (`## The idea {#the-idea}`), or else the one
/// mdBook makes of its text, with `-1`, `-2`, ... added to one taken
/// already. Lines in fenced code blocks are not headings.
pub fn anchors(markdown: &str) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut fence: Option<&str> = None;
    let mut anchors = Vec::new();
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if let Some(open) = fence {
            if trimmed.starts_with(open) {
                fence = None;
            }
            continue;
        }
        if let Some(marker) = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m)) {
            fence = Some(marker);
            continue;
        }
        let Some(text) = heading_text(line) else {
            continue;
        };
        let (text, id) = split_attributes(&text);
        if let Some(id) = id {
            anchors.push(id.to_string());
            continue;
        }
        let base = anchor_of(text);
        let count = seen.entry(base.clone()).or_insert(0);
        anchors.push(match *count {
            0 => base,
            n => format!("{base}-{n}"),
        });
        *count += 1;
    }
    anchors
}

/// A heading's text and the id of its attributes, if it has them:
/// `The idea {#the-idea}` is `("The idea", Some("the-idea"))`.
fn split_attributes(text: &str) -> (&str, Option<&str>) {
    let attributes = text
        .strip_suffix('}')
        .and_then(|rest| rest.rsplit_once('{'));
    match attributes {
        Some((before, inside)) => {
            let id = inside
                .split_whitespace()
                .find_map(|token| token.strip_prefix('#'));
            (before.trim_end(), id)
        }
        None => (text, None),
    }
}

/// The text of an ATX heading (`## The idea`), without the markup that
/// does not reach the anchor: backticks and emphasis stars.
fn heading_text(line: &str) -> Option<String> {
    let hashes = line.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = &line[hashes..];
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    let text = rest.trim().trim_end_matches('#').trim();
    Some(text.chars().filter(|&c| c != '`' && c != '*').collect())
}

/// Whether the exercise's section is a heading of its page: `Ok`, or what
/// is wrong with it.
pub fn check_section(workspace: &Workspace, exercise: &Exercise) -> Result<(), String> {
    let page = workspace.repository().join(exercise.book_page());
    let markdown = std::fs::read_to_string(&page)
        .map_err(|e| format!("its section's page {}: {e}", page.display()))?;
    let Some(anchor) = exercise.anchor() else {
        return Err(format!(
            "its section {} has no #anchor: point it at the heading that explains it",
            exercise.section
        ));
    };
    if anchors(&markdown).iter().any(|a| a == anchor) {
        Ok(())
    } else {
        Err(format!(
            "its section {}: {} has no heading with the anchor #{anchor}",
            exercise.section,
            exercise.book_page()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_mdbooks() {
        // Headings of the book and the anchors mdBook 0.4 gave them.
        for (heading, anchor) in [
            (
                "Waiting, and passing signals on",
                "waiting-and-passing-signals-on",
            ),
            ("Why chdir(\"/\") matters", "why-chdir-matters"),
            ("Getting inside: `exec`", "getting-inside-exec"),
            ("A terminal: `-it`", "a-terminal--it"),
            ("A + B + C + nginx, for real", "a--b--c--nginx-for-real"),
            ("docker's log format", "dockers-log-format"),
            (
                "Chain IDs: why unpacked layers are not keyed by diff_id",
                "chain-ids-why-unpacked-layers-are-not-keyed-by-diff_id",
            ),
            (
                "What the child does between MAPS_WRITTEN and GO",
                "what-the-child-does-between-maps_written-and-go",
            ),
            (".dockerignore", "dockerignore"),
        ] {
            assert_eq!(anchor_of(heading), anchor, "{heading}");
        }
    }

    #[test]
    fn an_id_given_in_braces_is_the_anchor() {
        let page = "# Chapter 1: chroot {#chapter-1-chroot}\n\
                    ## Why chdir(\"/\") matters {#why-chdir-matters}\n\
                    ## Aside {.note #an-aside}\n## The idea\n";
        assert_eq!(
            anchors(page),
            [
                "chapter-1-chroot",
                "why-chdir-matters",
                "an-aside",
                "the-idea"
            ]
        );
    }

    #[test]
    fn headings_in_code_blocks_do_not_count_and_repeats_are_numbered() {
        let page = "# Title\n\n## The user namespace\n\n```sh\n# not a heading\n```\n\n\
                    ### The user namespace\n#hashtag\n####### seven\n## `ps`, *as* docker prints it ##\n";
        assert_eq!(
            anchors(page),
            [
                "title",
                "the-user-namespace",
                "the-user-namespace-1",
                "ps-as-docker-prints-it"
            ]
        );
    }

    /// Every `section` of info.toml names a heading of its page, so that a
    /// hint never sends a learner to a place that is not there.
    #[test]
    fn every_section_in_info_toml_is_a_heading_of_the_book() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the runner is inside the exercises directory")
            .to_path_buf();
        let workspace = Workspace::at(root).expect("info.toml");
        let problems: Vec<String> = workspace
            .all()
            .iter()
            .filter_map(|e| {
                check_section(&workspace, e)
                    .err()
                    .map(|why| format!("{}: {why}", e.name))
            })
            .collect();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
