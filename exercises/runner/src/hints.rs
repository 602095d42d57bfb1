//! Hints in two levels: first a nudge (where to look, what to think
//! about), then the idea (how a solution goes, close to code). The solution
//! itself only comes once the exercise passes.

use crate::exercises::Exercise;

/// How much a hint gives away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Where to look and what to think about.
    Nudge,
    /// The idea of a solution.
    Idea,
}

/// The level to show: the nudge the first time, the idea once the nudge
/// has been seen, or straight away when asked for.
pub fn level(nudge_seen: bool, want_idea: bool) -> Level {
    if nudge_seen || want_idea {
        Level::Idea
    } else {
        Level::Nudge
    }
}

/// The hint at `level`, with the book section it comes from and what to
/// do next; `again` is how to ask for the next level (`h again`).
pub fn render(exercise: &Exercise, level: Level, again: &str) -> String {
    let name = &exercise.name;
    let (title, text, next) = match level {
        Level::Nudge => (
            "nudge",
            &exercise.nudge,
            format!("Still stuck? {again} gives the idea."),
        ),
        Level::Idea => (
            "idea",
            &exercise.idea,
            format!("Once it passes, `cargo ex solution {name}` shows the reference solution."),
        ),
    };
    format!(
        "{name}, the {title}:\n\n{}\n\nRead: {}\n{next}\n",
        indent(text.trim()),
        exercise.section
    )
}

/// Every line of `text` indented by two spaces, blank lines left blank.
fn indent(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("  {line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise() -> Exercise {
        Exercise {
            name: "19_next_address".into(),
            section: "book/src/ch07-network.md#addresses".into(),
            nudge: "Which addresses are not a container's?\nThink of the ends.".into(),
            idea: "Walk from the gateway + 1 to the broadcast - 1.".into(),
            needs_root: false,
        }
    }

    #[test]
    fn the_nudge_comes_first_then_the_idea() {
        assert_eq!(level(false, false), Level::Nudge);
        assert_eq!(level(true, false), Level::Idea);
        assert_eq!(level(false, true), Level::Idea);
        assert_eq!(level(true, true), Level::Idea);
    }

    #[test]
    fn each_level_points_at_the_section_and_the_next_step() {
        insta::assert_snapshot!(format!(
            "{}\n---\n{}",
            render(
                &exercise(),
                Level::Nudge,
                "`cargo ex hint 19_next_address` again"
            ),
            render(&exercise(), Level::Idea, "h again")
        ));
    }
}
