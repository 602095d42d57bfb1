//! # Exercise 26: seccomp rules, compiled to the BPF the kernel runs
//!
//! A seccomp filter is a small program in classic BPF. The kernel runs it
//! on every system call the process makes, with this as its data:
//!
//! ```text
//! struct seccomp_data {           offset
//!     int   nr;                   0       the system call's number
//!     __u32 arch;                 4       AUDIT_ARCH_*: which ABI made the call
//!     __u64 instruction_pointer;  8
//!     __u64 args[6];              16 + 8*i, low 32 bits first (x86_64 is
//! };                                      little-endian), high 32 at 20 + 8*i
//! ```
//!
//! The program can only load 32 bits at a time into its one register
//! (`ld [4]`), compare it with a constant and jump forward
//! (`jeq #k, jt, jf`: skip `jt` instructions when equal, `jf` when not),
//! and return the action (`ret #k`). A 64-bit argument is two loads and
//! two compares.
//!
//! Write [`compile`]. [`Insn`], its constructors and [`disassemble`] are
//! written. Run `cargo ex check 26_seccomp_rule` until it passes.

// The parameters are unused until the `todo!()` is replaced.
#![allow(unused_variables)]

/// What `arch` holds for a system call made through x86_64's own ABI
/// (`AUDIT_ARCH_X86_64`, `linux/audit.h`).
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

/// Let the system call run.
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
/// Fail it without running it: the low 16 bits are the errno it returns
/// (`SECCOMP_RET_ERRNO | 1` is EPERM, what docker's profile answers).
pub const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
/// Kill the whole process.
pub const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;

/// `BPF_LD | BPF_W | BPF_ABS`: load the 32 bits at offset `k` of the data.
pub const LD_ABS: u16 = 0x20;
/// `BPF_JMP | BPF_JEQ | BPF_K`: compare with `k`, jump by `jt` or `jf`.
pub const JEQ: u16 = 0x15;
/// `BPF_ALU | BPF_AND | BPF_K`: and the register with `k`.
pub const AND: u16 = 0x54;
/// `BPF_RET | BPF_K`: stop, and return `k`.
pub const RET: u16 = 0x06;

/// One instruction, laid out as the kernel's `struct sock_filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// What to do: [`LD_ABS`], [`JEQ`], [`AND`], [`RET`].
    pub code: u16,
    /// For a jump: how many instructions to skip when the test is true.
    pub jt: u8,
    /// For a jump: how many to skip when it is false.
    pub jf: u8,
    /// The constant: an offset, a value to compare, a mask, an action.
    pub k: u32,
}

impl Insn {
    /// `ld [offset]`: the register gets the 32 bits at `offset`.
    pub const fn load(offset: u32) -> Insn {
        Insn {
            code: LD_ABS,
            jt: 0,
            jf: 0,
            k: offset,
        }
    }

    /// `jeq #k`: go on at the next instruction plus `jt` when the register
    /// equals `k`, plus `jf` when not. Jumps only go forward.
    pub const fn jeq(k: u32, jt: u8, jf: u8) -> Insn {
        Insn {
            code: JEQ,
            jt,
            jf,
            k,
        }
    }

    /// `and #k`: keep only the bits of the register that are set in `k`
    /// (what a masked compare, such as docker's rule for clone's flags,
    /// starts with; equality needs none).
    pub const fn and(k: u32) -> Insn {
        Insn {
            code: AND,
            jt: 0,
            jf: 0,
            k,
        }
    }

    /// `ret #action`: the filter's answer.
    pub const fn ret(action: u32) -> Insn {
        Insn {
            code: RET,
            jt: 0,
            jf: 0,
            k: action,
        }
    }
}

/// A program as `tcpdump -d` prints one: a line per instruction, jumps
/// with the numbers of the instructions they land on.
///
/// ```text
/// (000) ld       [4]
/// (001) jeq      #0xc000003e      jt 2    jf 7
/// ```
pub fn disassemble(program: &[Insn]) -> String {
    program
        .iter()
        .enumerate()
        .map(|(at, insn)| {
            let line = match insn.code {
                LD_ABS => format!("ld       [{}]", insn.k),
                JEQ => format!(
                    "{:<25}jt {:<5}jf {}",
                    format!("jeq      #{:#x}", insn.k),
                    at + 1 + usize::from(insn.jt),
                    at + 1 + usize::from(insn.jf)
                ),
                AND => format!("and      #{:#x}", insn.k),
                RET => format!("ret      #{:#x}", insn.k),
                code => format!(
                    "code {code:#06x} jt {} jf {} k {:#x}",
                    insn.jt, insn.jf, insn.k
                ),
            };
            format!("({at:03}) {line}\n")
        })
        .collect()
}

/// One rule: a system call, and the action when it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The system call's number on x86_64 (`mount` is 165).
    pub nr: u32,
    /// When there is one, the rule holds only when argument `.0` (0 to 5)
    /// equals `.1`, all 64 bits of it.
    pub arg: Option<(u8, u64)>,
    /// What to return when the rule holds: `SECCOMP_RET_*`.
    pub action: u32,
}

/// The filter for `rules`, tried in order, the first that holds giving its
/// action; `default` for a call no rule holds for, and for any call not
/// made through x86_64's own ABI (the same number means another call
/// there: 11 is munmap on x86_64, execve on i386).
///
/// The program starts by loading `arch`, and its last instruction is
/// `ret default`.
pub fn compile(rules: &[Rule], default: u32) -> Vec<Insn> {
    // TODO: ld [4]; jeq AUDIT_ARCH_X86_64, and for another arch a way to
    //       `ret default`.
    // TODO: ld [0], then for each rule: jeq nr, over what follows when
    //       not equal; for an argument, load and compare its low word,
    //       then its high word; ret action.
    // TODO: an argument's loads replace the number in the register: the
    //       next rule needs it back.
    // TODO: ret default, last.
    todo!("the filter's program")
}
