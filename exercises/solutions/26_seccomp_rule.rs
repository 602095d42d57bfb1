//! Exercise 26, solved.

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

/// Where `struct seccomp_data` keeps the system call's number.
const NR: u32 = 0;
/// Where it keeps the ABI the call was made through.
const ARCH: u32 = 4;

/// Where argument `index` starts: its low 32 bits; the high ones follow.
fn arg_low(index: u8) -> u32 {
    16 + 8 * u32::from(index)
}

/// The filter for `rules`, then `default`.
///
/// ```text
///     ld [4]; jeq ARCH, 1, 0; ret default      another ABI
///     ld [0]
/// a rule without an argument:
///     jeq NR, 0, 1; ret action
/// a rule with one (the register is the number again after it):
///     jeq NR, 0, 6; ld [LOW]; jeq LO, 0, 3; ld [HIGH]; jeq HI, 0, 1; ret action; ld [0]
///     ret default
/// ```
///
/// Every jump is short, whatever the number of rules: a jump holds at most
/// 255 instructions.
pub fn compile(rules: &[Rule], default: u32) -> Vec<Insn> {
    let mut program = vec![
        Insn::load(ARCH),
        Insn::jeq(AUDIT_ARCH_X86_64, 1, 0),
        Insn::ret(default),
        Insn::load(NR),
    ];
    for rule in rules {
        match rule.arg {
            None => program.extend([Insn::jeq(rule.nr, 0, 1), Insn::ret(rule.action)]),
            Some((index, value)) => program.extend([
                Insn::jeq(rule.nr, 0, 6),
                Insn::load(arg_low(index)),
                Insn::jeq(value as u32, 0, 3),
                Insn::load(arg_low(index) + 4),
                Insn::jeq((value >> 32) as u32, 0, 1),
                Insn::ret(rule.action),
                Insn::load(NR),
            ]),
        }
    }
    program.push(Insn::ret(default));
    program
}
