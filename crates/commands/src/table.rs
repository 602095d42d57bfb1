//! Tables as docker prints them: fixed columns, long values cut short.
//!
//! A column is measured in terminal cells, not bytes or chars: `é` is two
//! bytes and one cell, `日` three bytes and two cells, so cutting a string
//! at a byte count can split a character (Rust panics rather than do it)
//! and padding by chars misaligns every column after a wide one.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// One column: its heading and how many cells it takes, gap included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The heading.
    pub title: &'static str,
    /// Cells, including the gap before the next column; the last column
    /// is not padded.
    pub width: usize,
}

/// The gap left between two columns.
const GAP: usize = 2;

// ANCHOR: cut
/// `text` in at most `max` cells: whole characters only, and `…` at the
/// end when something was cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        // Leave one cell for the ellipsis.
        if used + w > max.saturating_sub(1) {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}
// ANCHOR_END: cut

/// `text` followed by spaces up to `width` cells.
pub fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(text.width());
    format!("{text}{}", " ".repeat(fill))
}

/// The heading line.
pub fn header(columns: &[Column]) -> String {
    let titles: Vec<&str> = columns.iter().map(|c| c.title).collect();
    row(columns, &titles)
}

/// One line: each cell cut to its column (leaving the gap) and padded.
pub fn row(columns: &[Column], cells: &[&str]) -> String {
    let mut line = String::new();
    let last = columns.len().saturating_sub(1);
    for (i, (column, cell)) in columns.iter().zip(cells).enumerate() {
        if i == last {
            line.push_str(cell);
        } else {
            line.push_str(&pad(&cut(cell, column.width - GAP), column.width));
        }
    }
    line
}

// ANCHOR: fitted
/// A whole table, heading first, each column as wide as its widest cell
/// (as docker's tab writer lines them up). A column's `width`, when not
/// 0, is now the most it may take: longer cells are cut to fit.
pub fn fitted(columns: &[Column], rows: &[Vec<String>]) -> Vec<String> {
    let cut_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|cells| {
            columns
                .iter()
                .zip(cells)
                .map(|(column, cell)| match column.width {
                    0 => cell.clone(),
                    max => cut(cell, max - GAP),
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            cut_rows
                .iter()
                .filter_map(|cells| cells.get(i))
                .map(|cell| cell.width())
                .chain([column.title.width()])
                .max()
                .unwrap_or(0)
                + GAP
        })
        .collect();
    let titles: Vec<String> = columns.iter().map(|c| c.title.to_string()).collect();
    let last = columns.len().saturating_sub(1);
    std::iter::once(&titles)
        .chain(&cut_rows)
        .map(|cells| {
            let mut line = String::new();
            for (i, cell) in cells.iter().enumerate() {
                match i == last {
                    true => line.push_str(cell),
                    false => line.push_str(&pad(cell, widths[i])),
                }
            }
            line
        })
        .collect()
}
// ANCHOR_END: fitted

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 3] = [
        Column {
            title: "NAME",
            width: 8,
        },
        Column {
            title: "COMMAND",
            width: 12,
        },
        Column {
            title: "LAST",
            width: 0,
        },
    ];

    #[test]
    fn cuts_fall_between_characters_and_columns_line_up() {
        let lines = [
            header(&COLUMNS),
            row(&COLUMNS, &["ascii", "echo hello there", "x"]),
            // Two-byte characters across the byte where a naive cut falls.
            row(&COLUMNS, &["accent", "echo ééééééééé", "x"]),
            // Three-byte euros.
            row(&COLUMNS, &["euro", "€€€€€€€€€€€€", "x"]),
            // Wide (two-cell) characters: fewer of them fit.
            row(&COLUMNS, &["日本語の名前", "echo 日本語テキスト", "x"]),
        ];
        insta::assert_snapshot!(lines.join("\n"), @r"
        NAME    COMMAND     LAST
        ascii   echo hell…  x
        accent  echo éééé…  x
        euro    €€€€€€€€€…  x
        日本…   echo 日本…  x
        ");
        // Every row puts LAST at the same cell.
        for line in &lines {
            let before = line.rsplit_once(' ').map(|(b, _)| b).unwrap_or(line);
            assert_eq!(before.width() + 1, 20, "{line}");
        }
    }

    #[test]
    fn fitted_columns_take_what_their_widest_cell_needs() {
        let rows = vec![
            vec![
                "a".to_string(),
                "echo hello there".to_string(),
                "x".to_string(),
            ],
            vec!["日本語".to_string(), "ls".to_string(), "y".to_string()],
        ];
        insta::assert_snapshot!(fitted(&COLUMNS, &rows).join("\n"), @r"
        NAME    COMMAND     LAST
        a       echo hell…  x
        日本語  ls          y
        ");
    }

    #[test]
    fn short_text_is_kept_and_nothing_panics_at_any_width() {
        assert_eq!(cut("abc", 3), "abc");
        for text in ["", "a", "é", "日", "a€b日c", "\"echo aaaaaaaaaaaaaaa€\""] {
            for max in 0..12 {
                let cut = cut(text, max);
                assert!(cut.width() <= max.max(1), "{text:?} in {max}: {cut:?}");
            }
        }
    }
}
