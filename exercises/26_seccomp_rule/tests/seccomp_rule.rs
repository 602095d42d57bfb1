//! Exercise 26's tests: the compiled filters are checked as the kernel
//! checks a filter before it takes one, then run, on a small interpreter
//! below, against system calls made the way a process makes them. Any
//! layout of the program that gives the right answers passes.

#[cfg(not(feature = "solution"))]
use ex26_seccomp_rule as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/26_seccomp_rule.rs"]
mod subject;

use subject::{
    compile, disassemble, Insn, Rule, AND, AUDIT_ARCH_X86_64, JEQ, LD_ABS, RET, SECCOMP_RET_ALLOW,
    SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS,
};

/// `AUDIT_ARCH_I386`: a 32-bit program, or `int 0x80`, on the same kernel.
const AUDIT_ARCH_I386: u32 = 0x4000_0003;
const EPERM: u32 = SECCOMP_RET_ERRNO | 1;

/// The most instructions a filter may have (`BPF_MAXINSNS`).
const MAX_INSNS: usize = 4096;
/// The size of `struct seccomp_data`.
const DATA_SIZE: u32 = 64;

/// The checks the kernel makes before it takes a filter
/// (`bpf_check_classic` and `seccomp_check_filter`), for the instructions
/// this exercise has: a known code, loads of 32 aligned bits inside
/// `seccomp_data`, jumps that land inside the program, a `ret` last.
fn check(program: &[Insn]) -> Result<(), String> {
    if program.is_empty() || program.len() > MAX_INSNS {
        return Err(format!(
            "{} instructions: 1 to {MAX_INSNS} please",
            program.len()
        ));
    }
    for (at, insn) in program.iter().enumerate() {
        match insn.code {
            LD_ABS if insn.k % 4 != 0 || insn.k >= DATA_SIZE => {
                return Err(format!(
                    "({at:03}) loads [{}], outside seccomp_data",
                    insn.k
                ));
            }
            JEQ => {
                let furthest = at + 1 + usize::from(insn.jt.max(insn.jf));
                if furthest >= program.len() {
                    return Err(format!("({at:03}) jumps to ({furthest:03}), past the end"));
                }
            }
            LD_ABS | AND | RET => {}
            code => return Err(format!("({at:03}) has the unknown code {code:#06x}")),
        }
    }
    match program.last() {
        Some(last) if last.code == RET => Ok(()),
        _ => Err("the last instruction is not a ret".to_string()),
    }
}

/// A system call, as the filter sees it.
struct Call {
    arch: u32,
    name: &'static str,
    nr: u32,
    args: [u64; 6],
}

impl Call {
    /// `struct seccomp_data`, laid out by an x86_64 kernel.
    fn data(&self) -> [u8; 64] {
        let mut data = [0; 64];
        data[0..4].copy_from_slice(&self.nr.to_le_bytes());
        data[4..8].copy_from_slice(&self.arch.to_le_bytes());
        data[8..16].copy_from_slice(&0x7f12_3456_789au64.to_le_bytes());
        for (i, arg) in self.args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&arg.to_le_bytes());
        }
        data
    }
}

/// Run a checked program on a call, as the kernel does: one register,
/// forward jumps, the first `ret` is the answer.
fn run(program: &[Insn], call: &Call) -> u32 {
    let data = call.data();
    let (mut a, mut pc) = (0u32, 0usize);
    loop {
        let insn = program[pc];
        pc += 1;
        match insn.code {
            LD_ABS => {
                let at = insn.k as usize;
                a = u32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes"));
            }
            JEQ => pc += usize::from(if a == insn.k { insn.jt } else { insn.jf }),
            AND => a &= insn.k,
            RET => return insn.k,
            code => panic!("unknown code {code:#06x}, which check lets through"),
        }
    }
}

/// The filter for `rules`, checked.
fn filter(rules: &[Rule], default: u32) -> Vec<Insn> {
    let program = compile(rules, default);
    if let Err(why) = check(&program) {
        panic!(
            "the kernel would refuse this filter: {why}\n{}",
            disassemble(&program)
        );
    }
    program
}

fn action(ret: u32) -> String {
    match ret {
        SECCOMP_RET_ALLOW => "ALLOW".to_string(),
        SECCOMP_RET_KILL_PROCESS => "KILL_PROCESS".to_string(),
        _ if ret & 0xffff_0000 == SECCOMP_RET_ERRNO => format!("ERRNO({})", ret & 0xffff),
        _ => format!("{ret:#010x}"),
    }
}

fn x86_64(name: &'static str, nr: u32, args: &[u64]) -> Call {
    let mut all = [0; 6];
    all[..args.len()].copy_from_slice(args);
    Call {
        arch: AUDIT_ARCH_X86_64,
        name,
        nr,
        args: all,
    }
}

fn i386(name: &'static str, nr: u32) -> Call {
    Call {
        arch: AUDIT_ARCH_I386,
        name,
        nr,
        args: [0; 6],
    }
}

/// Each call, and what the filter answers.
fn answers(program: &[Insn], calls: &[Call]) -> String {
    let made: Vec<String> = calls
        .iter()
        .map(|call| {
            let shown = call
                .args
                .iter()
                .rposition(|&a| a != 0)
                .map_or(0, |last| last + 1);
            let args: Vec<String> = call.args[..shown]
                .iter()
                .map(|a| format!("{a:#x}"))
                .collect();
            let arch = if call.arch == AUDIT_ARCH_X86_64 {
                "x86_64"
            } else {
                "i386"
            };
            format!("{arch:<6} {}({})", call.name, args.join(", "))
        })
        .collect();
    let width = made.iter().map(String::len).max().unwrap_or(0);
    let lines: Vec<String> = made
        .iter()
        .zip(calls)
        .map(|(made, call)| format!("{made:<width$}  {}", action(run(program, call))))
        .collect();
    lines.join("\n")
}

// x86_64's numbers (arch/x86/entry/syscalls/syscall_64.tbl).
const READ: u32 = 0;
const WRITE: u32 = 1;
const IOCTL: u32 = 16;
const GETPID: u32 = 39;
const EXECVE: u32 = 59;
const PTRACE: u32 = 101;
const PERSONALITY: u32 = 135;
const MOUNT: u32 = 165;
const UMOUNT2: u32 = 166;
const KEXEC_LOAD: u32 = 246;
const UNSHARE: u32 = 272;
/// The ioctl that pushes a character into a terminal's input, as if typed.
const TIOCSTI: u64 = 0x5412;

#[test]
fn the_program_checks_the_abi_first_and_ends_with_the_default() {
    let rules = [Rule {
        nr: MOUNT,
        arg: None,
        action: EPERM,
    }];
    for default in [SECCOMP_RET_ALLOW, EPERM] {
        let program = filter(&rules, default);
        let listing = disassemble(&program);
        assert_eq!(program[0], Insn::load(4), "first, load arch\n{listing}");
        assert_eq!(
            program.last(),
            Some(&Insn::ret(default)),
            "last, the default\n{listing}"
        );
    }
}

#[test]
fn a_deny_list_allows_all_but_a_few() {
    let rules = [
        Rule {
            nr: MOUNT,
            arg: None,
            action: EPERM,
        },
        Rule {
            nr: UMOUNT2,
            arg: None,
            action: EPERM,
        },
        Rule {
            nr: IOCTL,
            arg: Some((1, TIOCSTI)),
            action: EPERM,
        },
        Rule {
            nr: KEXEC_LOAD,
            arg: None,
            action: SECCOMP_RET_KILL_PROCESS,
        },
    ];
    let program = filter(&rules, SECCOMP_RET_ALLOW);
    let calls = [
        x86_64("getpid", GETPID, &[]),
        x86_64("mount", MOUNT, &[0x1000, 0x2000, 0x3000]),
        x86_64("umount2", UMOUNT2, &[0x1000, 2]),
        x86_64("ioctl", IOCTL, &[0, TIOCSTI, 0x7ffc_0000]),
        x86_64("ioctl", IOCTL, &[0, 0x5401]),
        // The high word counts: this is not TIOCSTI.
        x86_64("ioctl", IOCTL, &[0, 0x1_0000_0000 | TIOCSTI]),
        // TIOCSTI as the first argument, not the second.
        x86_64("ioctl", IOCTL, &[TIOCSTI, 0]),
        x86_64("kexec_load", KEXEC_LOAD, &[]),
        // 165 is mount only on x86_64; on i386 it is getresuid.
        i386("getresuid", MOUNT),
    ];
    insta::assert_snapshot!(answers(&program, &calls));
}

#[test]
fn an_allow_list_refuses_all_but_a_few() {
    // As docker's profile does: EPERM by default, and personality(2) only
    // for the values a program may ask for, each all 64 bits.
    let rules = [
        Rule {
            nr: READ,
            arg: None,
            action: SECCOMP_RET_ALLOW,
        },
        Rule {
            nr: WRITE,
            arg: None,
            action: SECCOMP_RET_ALLOW,
        },
        Rule {
            nr: EXECVE,
            arg: None,
            action: SECCOMP_RET_ALLOW,
        },
        Rule {
            nr: PERSONALITY,
            arg: Some((0, 0)),
            action: SECCOMP_RET_ALLOW,
        },
        Rule {
            nr: PERSONALITY,
            arg: Some((0, 0x0002_0008)),
            action: SECCOMP_RET_ALLOW,
        },
        Rule {
            nr: PERSONALITY,
            arg: Some((0, 0xffff_ffff)),
            action: SECCOMP_RET_ALLOW,
        },
    ];
    let program = filter(&rules, EPERM);
    let calls = [
        x86_64("read", READ, &[0, 0x1000, 512]),
        x86_64("write", WRITE, &[1, 0x1000, 6]),
        x86_64("execve", EXECVE, &[0x1000, 0x2000, 0x3000]),
        x86_64("getpid", GETPID, &[]),
        x86_64("ptrace", PTRACE, &[16, 1]),
        x86_64("unshare", UNSHARE, &[0x1000_0000]),
        x86_64("personality", PERSONALITY, &[0]),
        x86_64("personality", PERSONALITY, &[0x0002_0008]),
        x86_64("personality", PERSONALITY, &[0xffff_ffff]),
        x86_64("personality", PERSONALITY, &[0xffff_ffff_ffff_ffff]),
        x86_64("personality", PERSONALITY, &[0x0040_0000]),
        // i386's 0 is restart_syscall, 11 execve: not x86_64's read and munmap.
        i386("restart_syscall", READ),
        i386("execve", 11),
    ];
    insta::assert_snapshot!(answers(&program, &calls));
}

#[test]
fn the_first_rule_that_holds_decides() {
    let rules = [
        Rule {
            nr: 500,
            arg: Some((5, 0xdead_beef_0000_0001)),
            action: SECCOMP_RET_ALLOW,
        },
        Rule {
            nr: 500,
            arg: Some((2, 7)),
            action: SECCOMP_RET_ERRNO | 22,
        },
        Rule {
            nr: 500,
            arg: None,
            action: SECCOMP_RET_ERRNO | 38,
        },
        Rule {
            nr: 500,
            arg: None,
            action: SECCOMP_RET_KILL_PROCESS,
        },
        Rule {
            nr: 501,
            arg: None,
            action: SECCOMP_RET_ALLOW,
        },
    ];
    let program = filter(&rules, EPERM);
    let calls = [
        x86_64("five_hundred", 500, &[0, 0, 0, 0, 0, 0xdead_beef_0000_0001]),
        x86_64("five_hundred", 500, &[0, 0, 7, 0, 0, 0xdead_beef_0000_0001]),
        x86_64("five_hundred", 500, &[0, 0, 7, 0, 0, 1]),
        x86_64("five_hundred", 500, &[0, 0, 7, 0, 0, 0xdead_beef_0000_0000]),
        x86_64("five_hundred", 500, &[0, 0, 0x7_0000_0007]),
        x86_64("five_hundred", 500, &[]),
        x86_64("five_hundred_one", 501, &[1, 2, 3, 4, 5, 6]),
        x86_64("five_hundred_two", 502, &[]),
    ];
    insta::assert_snapshot!(answers(&program, &calls));
}

#[test]
fn no_rules_leaves_the_default() {
    for default in [SECCOMP_RET_ALLOW, EPERM] {
        let program = filter(&[], default);
        for call in [
            x86_64("read", READ, &[]),
            x86_64("mount", MOUNT, &[]),
            i386("execve", 11),
        ] {
            assert_eq!(
                run(&program, &call),
                default,
                "{}\n{}",
                call.name,
                disassemble(&program)
            );
        }
    }
}

#[test]
fn the_checks_and_the_interpreter_are_the_kernels() {
    // Not your code: the tools the tests above use, tested themselves.
    let masked = [
        Insn::load(16),
        Insn::and(0x7e02_0000),
        Insn::jeq(0, 0, 1),
        Insn::ret(SECCOMP_RET_ALLOW),
        Insn::ret(EPERM),
    ];
    assert_eq!(check(&masked), Ok(()));
    assert_eq!(
        run(&masked, &x86_64("clone", 56, &[0x11])),
        SECCOMP_RET_ALLOW
    );
    assert_eq!(run(&masked, &x86_64("clone", 56, &[0x1000_0011])), EPERM);
    assert!(check(&[Insn::load(2), Insn::ret(0)]).is_err());
    assert!(check(&[Insn::load(64), Insn::ret(0)]).is_err());
    assert!(check(&[Insn::jeq(0, 0, 1), Insn::ret(0)]).is_err());
    assert!(check(&[Insn::ret(0), Insn::load(0)]).is_err());
    assert!(check(&[
        Insn {
            code: 0x07,
            jt: 0,
            jf: 0,
            k: 0
        },
        Insn::ret(0)
    ])
    .is_err());
    assert!(check(&[]).is_err());
}
