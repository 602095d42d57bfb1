//! From a call's number to its rules: ranges, and a binary search.
//!
//! docker's profile gives some 300 of x86_64's calls a rule, and lined up
//! by number most of them sit next to others with the same verdict: `read`
//! (0) to `sendfile` (40) are all allowed, whatever their arguments. So do
//! the numbers no rule names, with the default action. [`segments`] cuts the
//! number line `0..=u32::MAX` into pieces of two kinds: a *run* of numbers
//! that all get one action, and a single call whose rules look at its
//! arguments. For docker's profile on x86_64 there are 68:
//!
//! ```text
//! 0..=40          read..sendfile              ALLOW
//! 41              socket                      by its arguments
//! 42..=55         connect..getsockopt         ALLOW
//! 56              clone                       by its arguments
//! 57..=102        fork..getuid                ALLOW
//! 103             syslog                      ERRNO(1), the default
//! ...
//! 467..=u32::MAX  open_tree_attr and above    ERRNO(1), the default
//! ```
//!
//! [`search`] then writes a binary search over them: a balanced tree of
//! `jge` tests on the number, whose leaves are a `ret` for a run and a `ja`
//! to the argument checks for a call that has them:
//!
//! ```text
//!       jge #0x111 jt upper       ; >= set_robust_list
//!       jge #0x9f ...             ; >= adjtimex
//!       ...
//!       jge #0x29 ...             ; >= socket
//!       ret ALLOW                 ; read..sendfile
//!       ja socket_checks          ; socket, by its arguments
//!       ...
//! upper:
//!       ...
//! ```
//!
//! After the checks of the ABI, any call is decided in at most seven tests
//! where testing the numbers in turn took up to 307, and the program is a
//! quarter as long, which the kernel notices each time it checks the filter
//! and compiles it (JIT) at load. libseccomp builds a tree too when asked
//! (`SCMP_FLTATR_CTL_OPTIMIZE` set to 2, since 2.5).
//!
//! The tree uses only `jge` and `ja` on the number, which matters: since
//! Linux 5.11 the kernel runs a new filter at load time on every syscall
//! number with the arguments unknown, to find the calls it allows whatever
//! they are and skip the filter for those from then on. That emulator
//! follows loads of the number, tests against constants and jumps, and
//! gives up at the first load of an argument.

use crate::action::Action;
use crate::arch::Arch;
use crate::asm::{Assembler, Dest, Label, Test};
use crate::plan::{Rule, Ruleset};

/// A stretch of the number line that the search tells apart from its
/// neighbours.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    /// Every number in `first..=last` gets `action`, whatever the arguments.
    Run {
        first: u32,
        last: u32,
        action: Action,
    },
    /// One call whose rules look at its arguments.
    Checked { number: u32, rules: &'a [Rule] },
}

impl Segment<'_> {
    fn first(&self) -> u32 {
        match *self {
            Segment::Run { first, .. } => first,
            Segment::Checked { number, .. } => number,
        }
    }
}

/// A call whose argument checks the search jumps to: they are written
/// after the tree, each at its label.
pub(crate) struct Checks<'a> {
    pub(crate) name: String,
    pub(crate) label: Label,
    pub(crate) rules: &'a [Rule],
}

/// The number line `0..=u32::MAX` cut into segments, in order: a call with
/// argument checks is a segment of its own; neighbours that always get the
/// same action, whether a rule gives it or the default, share a run.
pub(crate) fn segments(ruleset: &Ruleset) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    // The first number no segment covers yet.
    let mut from = 0;
    for (&number, rules) in &ruleset.syscalls {
        if number > from {
            add_run(&mut segments, from, number - 1, ruleset.default);
        }
        match rules.as_slice() {
            [rule] if rule.args.is_empty() => add_run(&mut segments, number, number, rule.action),
            _ => segments.push(Segment::Checked { number, rules }),
        }
        match number.checked_add(1) {
            Some(next) => from = next,
            None => return segments,
        }
    }
    add_run(&mut segments, from, u32::MAX, ruleset.default);
    segments
}

/// Adds `first..=last` to the run before it if that has the same action.
fn add_run(segments: &mut Vec<Segment<'_>>, first: u32, last: u32, action: Action) {
    if let Some(Segment::Run {
        last: end,
        action: before,
        ..
    }) = segments.last_mut()
    {
        if *before == action {
            *end = last;
            return;
        }
    }
    segments.push(Segment::Run {
        first,
        last,
        action,
    });
}

// ANCHOR: search
/// Writes the binary search over `segments`, which lie next to each other
/// in order; the call's number is in `A`. Each half is searched the same
/// way, the lower half right after the test, the upper half after that.
/// The calls with argument checks are added to `checks`.
pub(crate) fn search<'a>(
    asm: &mut Assembler,
    ruleset: &Ruleset,
    segments: &[Segment<'a>],
    checks: &mut Vec<Checks<'a>>,
) {
    let (lower, upper) = segments.split_at(segments.len() / 2);
    let middle = upper
        .first()
        .expect("segments cover the number line, so there is at least one");
    if lower.is_empty() {
        leaf(asm, ruleset, middle, checks);
        return;
    }
    let to_upper = asm.label();
    asm.jump(Test::Ge, middle.first(), Dest::To(to_upper), Dest::Next);
    asm.note(format!(">= {}", name(ruleset.arch, middle.first())));
    search(asm, ruleset, lower, checks);
    asm.place(to_upper);
    search(asm, ruleset, upper, checks);
}
// ANCHOR_END: search

/// The end of the search: the verdict for a run, a jump to the argument
/// checks for a call that has them.
fn leaf<'a>(
    asm: &mut Assembler,
    ruleset: &Ruleset,
    segment: &Segment<'a>,
    checks: &mut Vec<Checks<'a>>,
) {
    let arch = ruleset.arch;
    match *segment {
        Segment::Run {
            first,
            last,
            action,
        } => {
            asm.ret(action);
            let calls = match (first, last) {
                (first, last) if first == last => name(arch, first),
                (first, u32::MAX) => format!("{} and above", name(arch, first)),
                (first, last) => format!("{}..{}", name(arch, first), name(arch, last)),
            };
            if action == ruleset.default {
                asm.note(format!("{calls}: no rule"));
            } else {
                asm.note(calls);
            }
        }
        Segment::Checked { number, rules } => {
            let label = asm.label();
            asm.ja(label);
            let name = name(arch, number);
            asm.note(format!("{name}, by its arguments"));
            checks.push(Checks { name, label, rules });
        }
    }
}

/// A number as the disassembly's comments show it: the call's name where
/// the architecture's table has one.
fn name(arch: Arch, number: u32) -> String {
    arch.syscall_name(number)
        .map_or_else(|| number.to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::profile::{ArgCheck, Op};

    fn ruleset(syscalls: Vec<(u32, Vec<Rule>)>) -> Ruleset {
        Ruleset {
            arch: Arch::X86_64,
            default: Action::Errno(1),
            syscalls: syscalls.into_iter().collect::<BTreeMap<_, _>>(),
            unknown_names: BTreeSet::new(),
        }
    }

    fn always(action: Action) -> Vec<Rule> {
        vec![Rule {
            action,
            args: vec![],
        }]
    }

    fn run(first: u32, last: u32, action: Action) -> Segment<'static> {
        Segment::Run {
            first,
            last,
            action,
        }
    }

    #[test]
    fn neighbours_with_one_action_share_a_run_and_checks_stand_alone() {
        let checked = vec![Rule {
            action: Action::Allow,
            args: vec![ArgCheck {
                index: 0,
                op: Op::Eq(1),
            }],
        }];
        let rules = ruleset(vec![
            (0, always(Action::Allow)),
            (1, always(Action::Allow)),
            (2, always(Action::Log)),
            (3, always(Action::Allow)),
            (4, checked.clone()),
            (5, always(Action::Allow)),
            (9, always(Action::Allow)),
        ]);
        assert_eq!(
            segments(&rules),
            vec![
                run(0, 1, Action::Allow),
                run(2, 2, Action::Log),
                run(3, 3, Action::Allow),
                Segment::Checked {
                    number: 4,
                    rules: &checked
                },
                run(5, 5, Action::Allow),
                run(6, 8, Action::Errno(1)),
                run(9, 9, Action::Allow),
                run(10, u32::MAX, Action::Errno(1)),
            ]
        );
    }

    #[test]
    fn the_ends_of_the_number_line_are_covered() {
        assert_eq!(
            segments(&ruleset(vec![])),
            vec![run(0, u32::MAX, Action::Errno(1))]
        );
        assert_eq!(
            segments(&ruleset(vec![(u32::MAX, always(Action::Allow))])),
            vec![
                run(0, u32::MAX - 1, Action::Errno(1)),
                run(u32::MAX, u32::MAX, Action::Allow),
            ]
        );
    }
}
