//! The compiler's second half: rules to a BPF program.
//!
//! The program the kernel runs on every system call reads like this:
//!
//! ```text
//!       ld [4]                   the ABI the call came through
//!       jeq #AUDIT_ARCH jt +1
//!       ret DEFAULT              another ABI: no rule applies
//!       ld [0]                   the call's number
//!       jge #0x40000000 ...      (x86_64) an x32 call: no rule applies
//!       jge #0x111 jt upper      a binary search on the number
//!       ...                        (see `search`), whose leaves are
//!       ret ALLOW                  a verdict for a range of numbers,
//!       ja socket                  or a jump to a call's argument checks
//!       ...
//! socket:
//!       ld [20] ... ld [16] ...  args[0], high word then low word
//!       ret ALLOW                every check passed
//!       ret DEFAULT              no rule matched
//! ```
//!
//! Only the native ABI is filtered rule by rule. An x86_64 machine also
//! runs 32-bit x86 programs (`int 0x80`, `AUDIT_ARCH_I386`) and x32 ones
//! (the x86_64 ABI with 32-bit pointers, marked by bit 30 of the number);
//! each has its own numbers, so each would need its own copy of every rule.
//! cratebox gives them the default action instead: a container's 32-bit
//! programs get EPERM for every call, and none can slip past the rules by
//! changing doors. docker, through libseccomp, filters x86 and x32 too.
//!
//! Arguments are 64 bits and BPF registers 32, so each check compares two
//! words of `seccomp_data.args[i]`: the high one at `20 + 8i`, the low one
//! at `16 + 8i` (both our architectures are little-endian). `arg > v` holds
//! when the high word is greater, or equal with the low word greater; that
//! is the pattern libseccomp uses too.

use crate::action::Action;
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::asm::{Assembler, Dest, Label, Test};
use crate::error::CompileError;
use crate::filter::Filter;
use crate::plan::{Rule, Ruleset};
use crate::profile::{ArgCheck, Op, Profile};
use crate::search::{search, segments, Checks};
use crate::target::Target;

/// `offsetof(struct seccomp_data, nr)`
const NR: u32 = 0;
/// `offsetof(struct seccomp_data, arch)`
const ARCH: u32 = 4;
/// `offsetof(struct seccomp_data, args)`
const ARGS: u32 = 16;

/// The kernel's limit on a program's length (`BPF_MAXINSNS`).
const MAX_INSTRUCTIONS: usize = 4096;

impl Profile {
    /// Compiles the profile into a filter for `target`: [`Profile::rules`],
    /// then [`Ruleset::compile`].
    pub fn compile(&self, target: &Target) -> Result<Filter, CompileError> {
        self.rules(target).compile()
    }
}

impl Ruleset {
    /// Writes the BPF program that gives each call its verdict.
    pub fn compile(&self) -> Result<Filter, CompileError> {
        let mut asm = Assembler::default();
        let default = self.default;

        let native = asm.label();
        asm.load(ARCH);
        asm.jump(Test::Eq, self.arch.audit(), Dest::To(native), Dest::Next);
        asm.ret(default);
        asm.note(format!("not {}", self.arch));
        asm.place(native);

        asm.load(NR);
        if self.arch == Arch::X86_64 {
            let numbers = asm.label();
            asm.jump(Test::Ge, X32_SYSCALL_BIT, Dest::Next, Dest::To(numbers));
            asm.ret(default);
            asm.note("an x32 call");
            asm.place(numbers);
        }

        // ANCHOR: dispatch
        // A binary search over the number line finds the call's verdict,
        // or the argument checks it jumps to, written after the search.
        let mut checks = Vec::new();
        search(&mut asm, self, &segments(self), &mut checks);
        // ANCHOR_END: dispatch

        for Checks { name, label, rules } in checks {
            asm.place(label);
            rule_block(&mut asm, &name, rules, default);
        }

        let program = asm.finish();
        if program.instructions.len() > MAX_INSTRUCTIONS {
            return Err(CompileError::TooLong {
                instructions: program.instructions.len(),
                limit: MAX_INSTRUCTIONS,
            });
        }
        Ok(Filter::new(self.arch, program))
    }
}

/// One call's rules, in order: each rule's checks, and its `ret` when they
/// all pass; a failed check goes on to the next rule, the last to `default`.
fn rule_block(asm: &mut Assembler, name: &str, rules: &[Rule], default: Action) {
    for (n, rule) in rules.iter().enumerate() {
        let next_rule = asm.label();
        for check in &rule.args {
            let passed = asm.label();
            arg_check(asm, *check, passed, next_rule);
            asm.place(passed);
        }
        asm.ret(rule.action);
        asm.note(format!("{name} rule {}", n + 1));
        asm.place(next_rule);
        if rule.args.is_empty() {
            // Nothing jumps past a rule without checks.
            return;
        }
    }
    asm.ret(default);
    asm.note(format!("{name}: no rule matched"));
}

/// Jumps to `yes` if the argument passes the check, to `no` if not.
fn arg_check(asm: &mut Assembler, check: ArgCheck, yes: Label, no: Label) {
    let index = u32::from(check.index);
    let words = Words {
        high: ARGS + 8 * index + 4,
        low: ARGS + 8 * index,
    };
    match check.op {
        Op::Eq(v) => words.equal(asm, None, v, yes, no),
        Op::Ne(v) => words.equal(asm, None, v, no, yes),
        Op::MaskedEq { mask, value } => words.equal(asm, Some(mask), value, yes, no),
        Op::Gt(v) => words.above(asm, v, false, yes, no),
        Op::Ge(v) => words.above(asm, v, true, yes, no),
        // arg <= v is not (arg > v); arg < v is not (arg >= v).
        Op::Le(v) => words.above(asm, v, false, no, yes),
        Op::Lt(v) => words.above(asm, v, true, no, yes),
    }
}

// ANCHOR: words
/// Where the two halves of one argument are in `seccomp_data`.
struct Words {
    high: u32,
    low: u32,
}

/// A 64-bit value's high and low 32-bit words.
fn split(value: u64) -> (u32, u32) {
    // The shifts and the truncation are the point: each half fits in u32.
    ((value >> 32) as u32, value as u32)
}

impl Words {
    /// `arg == value`, or `arg & mask == value`: both words must be equal.
    fn equal(&self, asm: &mut Assembler, mask: Option<u64>, value: u64, yes: Label, no: Label) {
        let (value_high, value_low) = split(value);
        let (mask_high, mask_low) = split(mask.unwrap_or(u64::MAX));
        asm.load(self.high);
        if mask.is_some() {
            asm.and(mask_high);
        }
        asm.jump(Test::Eq, value_high, Dest::Next, Dest::To(no));
        asm.load(self.low);
        if mask.is_some() {
            asm.and(mask_low);
        }
        asm.jump(Test::Eq, value_low, Dest::To(yes), Dest::To(no));
    }

    /// `arg > value`, or `arg >= value` with `or_equal`: decided by the high
    /// words unless they are equal, then by the low words.
    fn above(&self, asm: &mut Assembler, value: u64, or_equal: bool, yes: Label, no: Label) {
        let (value_high, value_low) = split(value);
        asm.load(self.high);
        asm.jump(Test::Gt, value_high, Dest::To(yes), Dest::Next);
        asm.jump(Test::Eq, value_high, Dest::Next, Dest::To(no));
        asm.load(self.low);
        let test = if or_equal { Test::Ge } else { Test::Gt };
        asm.jump(test, value_low, Dest::To(yes), Dest::To(no));
    }
}
// ANCHOR_END: words
