//! Classic BPF, and a small assembler that resolves jump labels.
//!
//! A seccomp filter is a program for the classic BPF machine, the one
//! tcpdump compiles packet filters to (not eBPF). It has an accumulator `A`,
//! reads a `struct seccomp_data` instead of a packet, and every instruction
//! is a `struct sock_filter`: a 16-bit opcode, a 32-bit constant `k`, and
//! two 8-bit jump offsets `jt` and `jf`, counted in instructions from the
//! next one. Jumps only go forward, so every program ends, and the kernel
//! checks that before it accepts one.
//!
//! Eight bits of offset is the catch: a conditional jump reaches at most 255
//! instructions ahead, and a profile with many argument checks makes a
//! filter thousands long. Only `ja`, the unconditional jump, has a 32-bit
//! offset. So the code generator writes jumps to labels, and
//! [`Assembler::finish`] lays the program out; where a conditional jump
//! cannot reach its label, it is rewritten to jump over a `ja` that can:
//!
//! ```text
//! jeq #41 jt far jf next      becomes      jeq #41 jt 0 jf 1
//!                                          ja far
//! ```
//!
//! The rewrite makes the program longer, which can push another jump out of
//! reach, so layout repeats until nothing changes. It ends because jumps
//! only ever become long, never short again.

use std::collections::BTreeMap;

use libc::sock_filter;

use crate::action::Action;

// The opcode is three fields ORed together, as in <linux/filter.h>:
// the class in the low three bits, then size and mode, or operation and
// source. Only those this crate uses or reads back are named.

/// Class: load into `A`.
pub(crate) const LD: u16 = 0x00;
/// Class: load into `X`.
pub(crate) const LDX: u16 = 0x01;
/// Class: arithmetic on `A`.
pub(crate) const ALU: u16 = 0x04;
/// Class: jump.
pub(crate) const JMP: u16 = 0x05;
/// Class: return a verdict.
pub(crate) const RET: u16 = 0x06;
/// Class: `tax`/`txa`, moves between `A` and `X`.
pub(crate) const MISC: u16 = 0x07;

/// Size: a 32-bit word, the only size seccomp allows.
pub(crate) const W: u16 = 0x00;
/// Mode: the constant `k` itself.
pub(crate) const IMM: u16 = 0x00;
/// Mode: the word at offset `k` of `seccomp_data`.
pub(crate) const ABS: u16 = 0x20;

/// ALU operation: `A &= k`.
pub(crate) const AND: u16 = 0x50;
/// Jump: always, by `k`.
pub(crate) const JA: u16 = 0x00;
/// Jump: if `A == k`.
pub(crate) const JEQ: u16 = 0x10;
/// Jump: if `A > k`, unsigned.
pub(crate) const JGT: u16 = 0x20;
/// Jump: if `A >= k`, unsigned.
pub(crate) const JGE: u16 = 0x30;
/// Jump: if `A & k != 0`.
pub(crate) const JSET: u16 = 0x40;
/// Source: the constant `k` (rather than `X`).
pub(crate) const K: u16 = 0x00;
/// Return: the accumulator (rather than `k`).
pub(crate) const RET_A: u16 = 0x10;

/// The most a conditional jump can skip.
const MAX_SHORT: usize = u8::MAX as usize;

/// A place in the program that jumps can name before it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Label(usize);

/// Where a conditional jump goes when its test is true or false.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dest {
    /// The instruction written after the jump.
    Next,
    /// A label, which must be placed later in the program.
    To(Label),
}

/// The tests a conditional jump can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Test {
    /// `jeq`
    Eq,
    /// `jgt`
    Gt,
    /// `jge`
    Ge,
}

#[derive(Debug)]
enum Item {
    Plain(sock_filter),
    Jump {
        test: Test,
        k: u32,
        jt: Dest,
        jf: Dest,
    },
    Ja(Label),
    Place(Label),
}

/// A program being written: instructions with symbolic jumps, and a
/// comment for some of them that `disassemble` prints.
#[derive(Debug, Default)]
pub(crate) struct Assembler {
    items: Vec<Item>,
    notes: BTreeMap<usize, String>,
    labels: usize,
}

/// A finished program and the comments of its instructions, by address.
pub(crate) struct Program {
    pub(crate) instructions: Vec<sock_filter>,
    pub(crate) notes: BTreeMap<usize, String>,
}

/// One instruction, as `BPF_STMT` and `BPF_JUMP` write it in C.
pub(crate) const fn insn(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

impl Assembler {
    /// A new label, to be placed later.
    pub(crate) fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }

    /// Puts `label` at the next instruction.
    pub(crate) fn place(&mut self, label: Label) {
        self.items.push(Item::Place(label));
    }

    /// `ld [offset]`: the 32-bit word at `offset` in `seccomp_data`.
    pub(crate) fn load(&mut self, offset: u32) {
        self.items
            .push(Item::Plain(insn(LD | W | ABS, offset, 0, 0)));
    }

    /// `and #k`
    pub(crate) fn and(&mut self, k: u32) {
        self.items.push(Item::Plain(insn(ALU | AND | K, k, 0, 0)));
    }

    /// A conditional jump on `A` against `k`.
    pub(crate) fn jump(&mut self, test: Test, k: u32, jt: Dest, jf: Dest) {
        self.items.push(Item::Jump { test, k, jt, jf });
    }

    /// `ja`: a jump that always goes to `to`, however far.
    pub(crate) fn ja(&mut self, to: Label) {
        self.items.push(Item::Ja(to));
    }

    /// `ret #k`: the verdict.
    pub(crate) fn ret(&mut self, action: Action) {
        self.items
            .push(Item::Plain(insn(RET | K, action.ret(), 0, 0)));
    }

    /// Attaches a comment to the instruction written last.
    pub(crate) fn note(&mut self, text: impl Into<String>) {
        if let Some(last) = self.items.len().checked_sub(1) {
            self.notes.insert(last, text.into());
        }
    }

    /// Lays the program out and resolves every jump.
    pub(crate) fn finish(self) -> Program {
        // For each item, whether its true and false branches need a `ja`.
        let mut long = vec![(false, false); self.items.len()];
        loop {
            let layout = Layout::of(&self.items, &long, self.labels);
            let mut changed = false;
            for (i, item) in self.items.iter().enumerate() {
                if let Item::Jump { jt, jf, .. } = item {
                    let (t, f) = (layout.dest(i, *jt), layout.dest(i, *jf));
                    let from = layout.address[i] + 1;
                    if !long[i].0 && distance(from, t) > MAX_SHORT {
                        long[i].0 = true;
                        changed = true;
                    }
                    // Both offsets count from the instruction after the
                    // test, even when a `ja` has been put there.
                    if !long[i].1 && distance(from, f) > MAX_SHORT {
                        long[i].1 = true;
                        changed = true;
                    }
                }
            }
            if !changed {
                return self.emit(&layout, &long);
            }
        }
    }

    fn emit(self, layout: &Layout, long: &[(bool, bool)]) -> Program {
        let mut out = Vec::with_capacity(layout.len);
        for (i, item) in self.items.iter().enumerate() {
            let here = layout.address[i];
            match *item {
                Item::Plain(instruction) => out.push(instruction),
                Item::Place(_) => {}
                Item::Ja(to) => out.push(insn(JMP | JA, wide(here + 1, layout.label(to)), 0, 0)),
                Item::Jump { test, k, jt, jf } => {
                    let (t, f) = (layout.dest(i, jt), layout.dest(i, jf));
                    let code = JMP | K | test.opcode();
                    match long[i] {
                        (false, false) => {
                            out.push(insn(code, k, short(here + 1, t), short(here + 1, f)))
                        }
                        (true, false) => {
                            out.push(insn(code, k, 0, short(here + 1, f)));
                            out.push(insn(JMP | JA, wide(here + 2, t), 0, 0));
                        }
                        (false, true) => {
                            out.push(insn(code, k, short(here + 1, t), 0));
                            out.push(insn(JMP | JA, wide(here + 2, f), 0, 0));
                        }
                        (true, true) => {
                            out.push(insn(code, k, 0, 1));
                            out.push(insn(JMP | JA, wide(here + 2, t), 0, 0));
                            out.push(insn(JMP | JA, wide(here + 3, f), 0, 0));
                        }
                    }
                }
            }
        }
        let notes = self
            .notes
            .into_iter()
            .map(|(item, text)| (layout.address[item], text))
            .collect();
        Program {
            instructions: out,
            notes,
        }
    }
}

impl Test {
    fn opcode(self) -> u16 {
        match self {
            Test::Eq => JEQ,
            Test::Gt => JGT,
            Test::Ge => JGE,
        }
    }
}

/// Where each item starts, and each label, for one choice of long jumps.
struct Layout {
    address: Vec<usize>,
    /// Each label's address; `usize::MAX` for one never placed.
    labels: Vec<usize>,
    len: usize,
}

impl Layout {
    fn of(items: &[Item], long: &[(bool, bool)], label_count: usize) -> Layout {
        let mut address = Vec::with_capacity(items.len() + 1);
        let mut labels = vec![usize::MAX; label_count];
        let mut at = 0;
        for (item, &(t, f)) in items.iter().zip(long) {
            address.push(at);
            at += match item {
                Item::Place(Label(label)) => {
                    labels[*label] = at;
                    0
                }
                Item::Jump { .. } => 1 + usize::from(t) + usize::from(f),
                Item::Plain(_) | Item::Ja(_) => 1,
            };
        }
        // The address after the last item, for a jump written last.
        address.push(at);
        Layout {
            address,
            labels,
            len: at,
        }
    }

    fn label(&self, Label(label): Label) -> usize {
        let at = self.labels[label];
        assert!(
            at != usize::MAX,
            "the code generator places every label it jumps to"
        );
        at
    }

    /// The address a branch of item `i` goes to. `Next` is the item after
    /// it, wherever its own expansion ends.
    fn dest(&self, i: usize, dest: Dest) -> usize {
        match dest {
            Dest::Next => self.address[i + 1],
            Dest::To(label) => self.label(label),
        }
    }
}

fn distance(from: usize, to: usize) -> usize {
    to.checked_sub(from)
        .expect("BPF jumps only go forward: the code generator places labels after their jumps")
}

fn short(from: usize, to: usize) -> u8 {
    u8::try_from(distance(from, to)).expect("finish made every out-of-reach branch long")
}

fn wide(from: usize, to: usize) -> u32 {
    u32::try_from(distance(from, to)).expect("a program of at most BPF_MAXINSNS instructions")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `program` on a `seccomp_data` whose `nr` is `nr` and returns
    /// what it returns; enough of a machine for jumps and returns.
    fn run(program: &[sock_filter], nr: u32) -> u32 {
        let mut pc = 0;
        loop {
            let i = program[pc];
            pc += 1;
            match i.code {
                c if c == LD | W | ABS => assert_eq!(i.k, 0),
                c if c == RET | K => return i.k,
                c if c == JMP | JA => pc += i.k as usize,
                c if c == JMP | K | JEQ => pc += usize::from(if nr == i.k { i.jt } else { i.jf }),
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }

    #[test]
    fn jumps_out_of_reach_go_through_ja() {
        // Three tests whose targets lie past 300 returns.
        let mut asm = Assembler::default();
        let targets: Vec<Label> = (0..3).map(|_| asm.label()).collect();
        asm.load(0);
        for (n, target) in targets.iter().enumerate() {
            asm.jump(Test::Eq, n as u32, Dest::To(*target), Dest::Next);
        }
        asm.jump(Test::Eq, 99, Dest::Next, Dest::To(targets[2]));
        for _ in 0..300 {
            asm.ret(Action::Errno(9));
        }
        for (n, target) in targets.into_iter().enumerate() {
            asm.place(target);
            asm.ret(Action::Errno(n as u16));
        }
        let program = asm.finish().instructions;
        assert!(
            program.iter().any(|i| i.code == JMP | JA),
            "some jumps became long"
        );
        assert_eq!(run(&program, 0), Action::Errno(0).ret());
        assert_eq!(run(&program, 1), Action::Errno(1).ret());
        assert_eq!(run(&program, 2), Action::Errno(2).ret());
        assert_eq!(run(&program, 99), Action::Errno(9).ret());
        assert_eq!(run(&program, 50), Action::Errno(2).ret());
    }

    #[test]
    fn ja_goes_as_far_as_it_must() {
        let mut asm = Assembler::default();
        let far = asm.label();
        asm.load(0);
        asm.ja(far);
        for _ in 0..300 {
            asm.ret(Action::Errno(9));
        }
        asm.place(far);
        asm.ret(Action::Allow);
        let program = asm.finish().instructions;
        assert_eq!(program.len(), 303);
        assert_eq!(program[1].k, 300);
        assert_eq!(run(&program, 0), Action::Allow.ret());
    }

    #[test]
    fn jumps_in_reach_stay_short() {
        let mut asm = Assembler::default();
        let yes = asm.label();
        asm.load(0);
        asm.jump(Test::Eq, 1, Dest::To(yes), Dest::Next);
        asm.ret(Action::Errno(1));
        asm.place(yes);
        asm.ret(Action::Allow);
        let program = asm.finish().instructions;
        assert_eq!(program.len(), 4);
        assert_eq!((program[1].jt, program[1].jf), (1, 0));
    }
}
