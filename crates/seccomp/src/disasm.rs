//! Reading a filter back: one line per instruction.
//!
//! The notation is the one `bpf_dbg` and the kernel's BPF documentation use
//! (`ld [4]`, `jeq #0x3b jt 5 jf 6`, `ret #k`), with jump targets written as
//! the addresses they land on rather than as offsets, and the verdict of a
//! `ret` spelt out as seccomp-tools does: `ret ERRNO(1)`. A comment names
//! what a load reads from `seccomp_data`, the call a test on the number
//! compares with, and the calls a `ret` decides:
//!
//! ```text
//! 0000: ld [4]                        ; arch
//! 0001: jeq #0xc000003e jt 3 jf 2
//! 0002: ret ERRNO(1)                  ; not x86_64
//! ...
//! 0011: jge #0x29 jt 13 jf 12         ; >= socket
//! 0012: ret ALLOW                     ; read..sendfile
//! 0013: ja 141                        ; socket, by its arguments
//! ```

use std::fmt::Write;

use libc::sock_filter;

use crate::action::Action;
use crate::asm::{
    ABS, ALU, AND, IMM, JA, JEQ, JGE, JGT, JMP, JSET, K, LD, LDX, MISC, RET, RET_A, W,
};
use crate::filter::Filter;

/// The column comments start in.
const COMMENT_COLUMN: usize = 36;

impl Filter {
    /// The program as text, one instruction a line.
    pub fn disassemble(&self) -> String {
        let mut text = String::new();
        for (at, instruction) in self.instructions().iter().enumerate() {
            let line = format!("{at:04}: {}", render(at, instruction));
            let note = self
                .notes()
                .get(&at)
                .cloned()
                .or_else(|| load_note(instruction));
            match note {
                Some(note) => {
                    let _ = writeln!(text, "{line:<COMMENT_COLUMN$}; {note}");
                }
                None => {
                    let _ = writeln!(text, "{line}");
                }
            }
        }
        text
    }
}

/// One instruction in `bpf_dbg`'s notation; `at` is its address, to turn
/// relative jumps into targets.
fn render(at: usize, i: &sock_filter) -> String {
    let after = at + 1;
    let target = |offset: u32| after + offset as usize;
    let class = i.code & 0x07;
    match i.code {
        c if c == LD | W | ABS => format!("ld [{}]", i.k),
        c if c == LD | W | IMM => format!("ld #{:#x}", i.k),
        c if c == LDX | W | IMM => format!("ldx #{:#x}", i.k),
        c if c == RET | K => format!("ret {}", Action::from_ret(i.k)),
        c if c == RET | RET_A => "ret a".to_string(),
        c if c == MISC => "tax".to_string(),
        c if c == MISC | 0x80 => "txa".to_string(),
        c if c == JMP | JA => format!("ja {}", target(i.k)),
        c if class == JMP && c & 0x08 == K => {
            let name = match c & 0xf0 {
                JEQ => "jeq",
                JGT => "jgt",
                JGE => "jge",
                JSET => "jset",
                _ => return unknown(i),
            };
            format!(
                "{name} #{:#x} jt {} jf {}",
                i.k,
                target(u32::from(i.jt)),
                target(u32::from(i.jf))
            )
        }
        c if class == ALU && c & 0x08 == K => {
            let name = match c & 0xf0 {
                0x00 => "add",
                0x10 => "sub",
                0x20 => "mul",
                0x30 => "div",
                0x40 => "or",
                AND => "and",
                0x60 => "lsh",
                0x70 => "rsh",
                0xa0 => "xor",
                _ => return unknown(i),
            };
            format!("{name} #{:#x}", i.k)
        }
        _ => unknown(i),
    }
}

fn unknown(i: &sock_filter) -> String {
    format!(
        ".insn code {:#06x} jt {} jf {} k {:#x}",
        i.code, i.jt, i.jf, i.k
    )
}

/// What a load from `seccomp_data` reads, by offset.
fn load_note(i: &sock_filter) -> Option<String> {
    if i.code != LD | W | ABS {
        return None;
    }
    Some(match i.k {
        0 => "nr".to_string(),
        4 => "arch".to_string(),
        8 => "instruction_pointer, low word".to_string(),
        12 => "instruction_pointer, high word".to_string(),
        k @ 16..=63 => {
            let half = if (k - 16) % 8 == 0 { "low" } else { "high" };
            format!("args[{}], {half} word", (k - 16) / 8)
        }
        _ => return None,
    })
}
