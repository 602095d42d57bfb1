//! Running a filter without the kernel: a classic BPF interpreter.
//!
//! The kernel runs a filter on a `struct seccomp_data` it fills in for
//! each call:
//!
//! ```text
//! offset  0  int   nr                    the call's number
//!         4  u32   arch                  AUDIT_ARCH_* of the ABI used
//!         8  u64   instruction_pointer
//!        16  u64   args[6]               the six argument registers
//! ```
//!
//! [`Filter::evaluate`] builds the same 64 bytes and runs the program on
//! them the way the kernel's interpreter does, so tests and the book can ask
//! "what would `unshare(CLONE_NEWUSER)` get?" without loading anything.
//! It understands the instructions a seccomp filter may use (loads, the
//! arithmetic, jumps, returns); for anything else, and for a program that
//! runs off its end, it answers what the kernel would do with a program
//! it refused to load: nothing runs, which we report as `KillProcess`.

use crate::action::Action;
use crate::asm::{ABS, ALU, IMM, JMP, K, LD, LDX, MISC, RET, RET_A, W};
use crate::filter::Filter;

/// `sizeof(struct seccomp_data)`, in 32-bit words.
const DATA_WORDS: usize = 16;

impl Filter {
    /// The verdict for a call with number `nr` and `args`, made through the
    /// ABI whose `AUDIT_ARCH_*` value is `arch` (see [`crate::Arch::audit`]).
    /// `nr` is an `i64` so that negative and x32 numbers can be asked about;
    /// the kernel's field is a 32-bit int, so only the low 32 bits count.
    pub fn evaluate(&self, arch: u32, nr: i64, args: [u64; 6]) -> Action {
        let mut data = [0u32; DATA_WORDS];
        // Truncating to the low 32 bits is what the kernel's `int nr` does.
        data[0] = nr as u32;
        data[1] = arch;
        for (i, arg) in args.iter().enumerate() {
            // Both architectures are little-endian: low word first.
            data[4 + 2 * i] = *arg as u32;
            data[5 + 2 * i] = (*arg >> 32) as u32;
        }
        run(self.instructions(), &data).map_or(Action::KillProcess, Action::from_ret)
    }
}

/// The return value of `program` on `data`, or `None` where the kernel
/// would have refused the program.
fn run(program: &[libc::sock_filter], data: &[u32; DATA_WORDS]) -> Option<u32> {
    let (mut a, mut x) = (0u32, 0u32);
    let mut pc = 0usize;
    loop {
        let i = program.get(pc)?;
        pc += 1;
        let class = i.code & 0x07;
        let source = if i.code & 0x08 == K { i.k } else { x };
        match class {
            LD | LDX => {
                let value = match i.code & 0xe0 {
                    ABS if class == LD && i.code & 0x18 == W && i.k % 4 == 0 => {
                        *data.get(i.k as usize / 4)?
                    }
                    IMM => i.k,
                    _ => return None,
                };
                if class == LD {
                    a = value;
                } else {
                    x = value;
                }
            }
            ALU => {
                a = match i.code & 0xf0 {
                    0x00 => a.wrapping_add(source),
                    0x10 => a.wrapping_sub(source),
                    0x20 => a.wrapping_mul(source),
                    0x30 => a.checked_div(source)?,
                    0x40 => a | source,
                    0x50 => a & source,
                    0x60 => a.checked_shl(source).unwrap_or(0),
                    0x70 => a.checked_shr(source).unwrap_or(0),
                    0x80 => a.wrapping_neg(),
                    0x90 => a.checked_rem(source)?,
                    0xa0 => a ^ source,
                    _ => return None,
                }
            }
            JMP => {
                let taken = match i.code & 0xf0 {
                    0x00 => {
                        pc = pc.checked_add(i.k as usize)?;
                        continue;
                    }
                    0x10 => a == source,
                    0x20 => a > source,
                    0x30 => a >= source,
                    0x40 => a & source != 0,
                    _ => return None,
                };
                pc += usize::from(if taken { i.jt } else { i.jf });
            }
            RET => return Some(if i.code & 0x18 == RET_A { a } else { i.k }),
            MISC => {
                if i.code & 0xf8 == 0 {
                    x = a;
                } else {
                    a = x;
                }
            }
            _ => return None,
        }
    }
}
