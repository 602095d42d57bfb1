//! `.dockerignore`: the files of the context that a build never sees.
//!
//! One pattern per line, `#` starts a comment. Patterns are paths relative
//! to the context, with `*`, `?` and `[...]` matching inside one path
//! component and `**` matching any number of components. A pattern that
//! matches a directory excludes everything in it. A line starting with `!`
//! is an exception: it brings back what an earlier line excluded. The
//! *last* line that matches a path decides, so order matters:
//!
//! ```text
//! *.log          # no logs...
//! !keep.log      # ...except this one
//! ```

use std::path::Path;

use glob::{MatchOptions, Pattern};
use thiserror::Error;

/// Why a `.dockerignore` could not be used.
#[derive(Debug, Error)]
pub enum IgnoreError {
    /// A pattern the glob syntax rejects.
    #[error(".dockerignore line {line}: bad pattern {pattern:?}: {why}")]
    BadPattern {
        /// Its line number, from 1.
        line: usize,
        /// The pattern as written.
        pattern: String,
        /// What the glob parser said.
        why: &'static str,
    },
    /// The file exists but cannot be read.
    #[error("cannot read .dockerignore: {0}")]
    Read(#[source] std::io::Error),
}

const OPTIONS: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// The patterns of one `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    rules: Vec<(bool, Pattern)>,
}

impl Ignore {
    /// Parse the text of a `.dockerignore`. A pattern the glob syntax
    /// rejects (an unclosed `[`) is an error naming its line.
    pub fn parse(text: &str) -> Result<Ignore, IgnoreError> {
        let mut rules = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            // Patterns are cleaned like paths: no leading `/` or `./`.
            let cleaned = pattern
                .split('/')
                .filter(|part| !part.is_empty() && *part != ".")
                .collect::<Vec<_>>()
                .join("/");
            let compiled = Pattern::new(&cleaned).map_err(|e| IgnoreError::BadPattern {
                line: index + 1,
                pattern: pattern.to_string(),
                why: e.msg,
            })?;
            rules.push((exception, compiled));
        }
        Ok(Ignore { rules })
    }

    /// Read `.dockerignore` from the context root; none means nothing ignored.
    pub fn load(context: &Path) -> Result<Ignore, IgnoreError> {
        match std::fs::read_to_string(context.join(".dockerignore")) {
            Ok(text) => Ignore::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Ignore::default()),
            Err(e) => Err(IgnoreError::Read(e)),
        }
    }

    /// Whether any rule is an exception (`!`), which can bring back a
    /// path inside an excluded directory.
    pub fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|(exception, _)| *exception)
    }

    // ANCHOR: ignored
    /// Whether `rel` (a path relative to the context) is excluded: the last
    /// rule that matches it or one of its parent directories decides.
    pub fn ignored(&self, rel: &Path) -> bool {
        let Some(path) = rel.to_str() else {
            return false;
        };
        let mut parents = vec![path];
        let mut rest = path;
        while let Some((parent, _)) = rest.rsplit_once('/') {
            parents.push(parent);
            rest = parent;
        }
        let mut ignored = false;
        for (exception, pattern) in &self.rules {
            if parents.iter().any(|p| pattern.matches_with(p, OPTIONS)) {
                ignored = !exception;
            }
        }
        ignored
    }
    // ANCHOR_END: ignored
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_match_wins() {
        let ignore =
            Ignore::parse("# build output\n/target\n*.log\n!keep.log\n**/*.tmp\ndocs/*/draft\n")
                .unwrap();
        let cases = [
            "target",
            "target/debug/app",
            "app.log",
            "keep.log",
            "sub/app.log",
            "a/b/c.tmp",
            "c.tmp",
            "docs/en/draft",
            "docs/en/final",
            "src/main.rs",
        ];
        let out: Vec<String> = cases
            .iter()
            .map(|c| format!("{c}: {}", ignore.ignored(Path::new(c))))
            .collect();
        insta::assert_snapshot!(out.join("\n"), @r"
        target: true
        target/debug/app: true
        app.log: true
        keep.log: false
        sub/app.log: false
        a/b/c.tmp: true
        c.tmp: true
        docs/en/draft: true
        docs/en/final: false
        src/main.rs: false
        ");
    }

    #[test]
    fn bad_pattern_names_its_line() {
        insta::assert_snapshot!(Ignore::parse("ok\n[oops\n").unwrap_err(), @r#".dockerignore line 2: bad pattern "[oops": invalid range pattern"#);
    }
}
