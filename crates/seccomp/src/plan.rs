//! From a profile to the rules for one target: numbers, not names.
//!
//! This is the compiler's first half, and pure: it drops the entries whose
//! `includes`/`excludes` rule them out for this container ([`Target::applies`]),
//! looks each name up in the target architecture's table, and files every
//! entry under each of its calls' numbers, in the profile's order. Names the
//! architecture lacks (`open` on aarch64, `arch_prctl` anywhere but x86) are
//! skipped and remembered, as libseccomp skips them: one profile serves
//! every architecture. Rules that cannot change a verdict are dropped.
//!
//! [`Ruleset::verdict`] then says what a call should get, written as plainly
//! as possible; the tests hold the compiled filter against it.

use std::collections::{BTreeMap, BTreeSet};

use crate::action::Action;
use crate::arch::Arch;
use crate::profile::{ArgCheck, Profile};
use crate::target::Target;

/// The rules a filter must implement, by syscall number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ruleset {
    /// Whose numbers these are.
    pub arch: Arch,
    /// The action for every call without a matching rule.
    pub default: Action,
    /// Each call's rules, in the profile's order: the first whose argument
    /// checks all pass decides. A `BTreeMap`, so that the numbers come in
    /// ascending order, as the filter's search over ranges of them needs.
    pub syscalls: BTreeMap<u32, Vec<Rule>>,
    /// Names of applicable entries that this architecture does not have.
    pub unknown_names: BTreeSet<String>,
}

/// One entry's action for one call, and its argument checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// What the call gets if every check passes.
    pub action: Action,
    /// The checks, all of which must pass. Empty: the rule always matches.
    pub args: Vec<ArgCheck>,
}

impl Rule {
    /// Whether the rule matches a call with these arguments.
    pub fn matches(&self, args: &[u64; 6]) -> bool {
        self.args
            .iter()
            .all(|check| check.op.holds(args[usize::from(check.index)]))
    }
}

impl Profile {
    /// The rules that apply to `target`.
    pub fn rules(&self, target: &Target) -> Ruleset {
        let mut syscalls: BTreeMap<u32, Vec<Rule>> = BTreeMap::new();
        let mut unknown_names = BTreeSet::new();
        for entry in self.entries.iter().filter(|entry| target.applies(entry)) {
            for name in &entry.names {
                let Some(number) = target.arch.syscall(name) else {
                    unknown_names.insert(name.clone());
                    continue;
                };
                let rules = syscalls.entry(number).or_default();
                // A rule after one without checks can never be reached.
                if rules.last().is_some_and(|rule| rule.args.is_empty()) {
                    continue;
                }
                rules.push(Rule {
                    action: entry.action,
                    args: entry.args.clone(),
                });
            }
        }
        // Rules at the end that give the default action change nothing: a
        // call that fails their checks gets the default too. Dropping them
        // lets a profile list refused calls, to say why, at no cost.
        let default = self.default_action;
        for rules in syscalls.values_mut() {
            while rules.last().is_some_and(|rule| rule.action == default) {
                rules.pop();
            }
        }
        syscalls.retain(|_, rules| !rules.is_empty());
        Ruleset {
            arch: target.arch,
            default,
            syscalls,
            unknown_names,
        }
    }
}

impl Ruleset {
    /// What call `number` with `args`, made through the native ABI, gets.
    pub fn verdict(&self, number: u32, args: [u64; 6]) -> Action {
        self.syscalls
            .get(&number)
            .and_then(|rules| rules.iter().find(|rule| rule.matches(&args)))
            .map_or(self.default, |rule| rule.action)
    }
}
