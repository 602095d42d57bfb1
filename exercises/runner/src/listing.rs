//! The list of exercises and the progress bar, as `list` and `watch` show
//! them.

use crate::exercises::Exercise;

/// `[=========>          ] 9/25 done`: `width` columns between the
/// brackets.
pub fn progress_bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width).checked_div(total).unwrap_or(0).min(width);
    let bar = if filled == width {
        "=".repeat(width)
    } else {
        format!("{}>{}", "=".repeat(filled), " ".repeat(width - filled - 1))
    };
    format!("[{bar}] {done}/{total} done")
}

/// One line per exercise, done or pending as last recorded, the one
/// `watch` follows marked with `>`, and the progress bar under them.
pub fn list_text(
    exercises: &[Exercise],
    done: &dyn Fn(&Exercise) -> bool,
    following: Option<&str>,
    as_root: bool,
) -> String {
    let mut text =
        String::from("As last checked (`cargo ex check-all` checks them all again):\n\n");
    for exercise in exercises {
        let mark = if following == Some(exercise.name.as_str()) {
            '>'
        } else {
            ' '
        };
        let state = if done(exercise) { "done" } else { "pending" };
        let root = if exercise.needs_root && !as_root {
            "  (needs root)"
        } else {
            ""
        };
        text.push_str(&format!(
            "{mark} {state:<8} {:<21} {}{root}\n",
            exercise.name, exercise.section
        ));
    }
    let count = exercises.iter().filter(|e| done(e)).count();
    text.push_str(&format!("\n{}\n", progress_bar(count, exercises.len(), 30)));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_as_exercises_are_done() {
        let bars: Vec<String> = [(0, 25), (1, 25), (9, 25), (24, 25), (25, 25), (0, 0)]
            .into_iter()
            .map(|(done, total)| progress_bar(done, total, 20))
            .collect();
        assert_eq!(
            bars,
            [
                "[>                   ] 0/25 done",
                "[>                   ] 1/25 done",
                "[=======>            ] 9/25 done",
                "[===================>] 24/25 done",
                "[====================] 25/25 done",
                "[>                   ] 0/0 done",
            ]
        );
    }

    #[test]
    fn the_list_says_it_is_the_record_and_marks_what_is_followed() {
        let exercise = |name: &str, section: &str, needs_root| Exercise {
            name: name.into(),
            section: section.into(),
            nudge: String::new(),
            idea: String::new(),
            needs_root,
        };
        let exercises = [
            exercise("00_exit_code", "book/src/ch01-chroot.md#run-it", false),
            exercise(
                "04_live_namespaces",
                "book/src/ch02-namespaces.md#bringing-up-lo",
                true,
            ),
            exercise(
                "19_next_address",
                "book/src/ch07-network.md#addresses",
                false,
            ),
        ];
        let done = |e: &Exercise| e.name == "00_exit_code";
        insta::assert_snapshot!(list_text(&exercises, &done, Some("19_next_address"), false));
    }
}
