//! The shipped profile, compiled, on the calls that tell a container from
//! the host: what an ordinary container gets, and what `--cap-add
//! SYS_ADMIN` gives back.

#![allow(clippy::unwrap_used)]

use cratebox_seccomp::arch::X32_SYSCALL_BIT;
use cratebox_seccomp::{Action, Arch, Profile, Target};

use cratebox_seccomp::DOCKER_DEFAULT_CAPABILITIES as DOCKER_DEFAULT_CAPS;

const CLONE_NEWUSER: u64 = 0x1000_0000;
const CLONE_THREAD_FLAGS: u64 = 0x003d_0f00;
const AF_INET: u64 = 2;
const AF_VSOCK: u64 = 40;
const ADDR_NO_RANDOMIZE: u64 = 0x0004_0000;

/// The calls asked about: a label, the name, the arguments.
fn calls() -> Vec<(&'static str, &'static str, [u64; 6])> {
    let arg0 = |value| [value, 0, 0, 0, 0, 0];
    vec![
        ("read", "read", arg0(0)),
        ("write", "write", arg0(1)),
        ("clone(thread flags)", "clone", arg0(CLONE_THREAD_FLAGS)),
        ("clone(CLONE_NEWUSER)", "clone", arg0(CLONE_NEWUSER)),
        ("clone3", "clone3", arg0(0)),
        ("unshare(CLONE_NEWUSER)", "unshare", arg0(CLONE_NEWUSER)),
        ("mount", "mount", arg0(0)),
        ("keyctl", "keyctl", arg0(0)),
        ("bpf", "bpf", arg0(0)),
        ("reboot", "reboot", arg0(0)),
        ("ptrace", "ptrace", arg0(0)),
        ("init_module", "init_module", arg0(0)),
        ("socket(AF_INET)", "socket", arg0(AF_INET)),
        ("socket(AF_VSOCK)", "socket", arg0(AF_VSOCK)),
        ("personality(0)", "personality", arg0(0)),
        ("personality(0xffffffff)", "personality", arg0(0xffff_ffff)),
        (
            "personality(ADDR_NO_RANDOMIZE)",
            "personality",
            arg0(ADDR_NO_RANDOMIZE),
        ),
        ("personality(1 << 32)", "personality", arg0(1 << 32)),
        ("clock_settime", "clock_settime", arg0(0)),
        ("chroot", "chroot", arg0(0)),
        ("newfstatat", "newfstatat", arg0(0)),
        ("pivot_root", "pivot_root", arg0(0)),
    ]
}

fn target(arch: Arch, sys_admin: bool) -> Target {
    let mut capabilities: Vec<String> = DOCKER_DEFAULT_CAPS.iter().map(|c| c.to_string()).collect();
    if sys_admin {
        capabilities.push("CAP_SYS_ADMIN".to_string());
    }
    Target {
        arch,
        capabilities,
        kernel: (6, 1),
    }
}

#[test]
fn default_profile_verdicts_for_interesting_calls() {
    let profile = Profile::docker_default();
    let columns = [
        (Arch::X86_64, false),
        (Arch::X86_64, true),
        (Arch::Aarch64, false),
        (Arch::Aarch64, true),
    ];
    let filters: Vec<_> = columns
        .iter()
        .map(|&(arch, sys_admin)| (arch, profile.compile(&target(arch, sys_admin)).unwrap()))
        .collect();
    let mut table = format!(
        "{:<32}{:<16}{:<16}{:<16}{}\n",
        "call", "x86_64", "+SYS_ADMIN", "aarch64", "+SYS_ADMIN"
    );
    for (label, name, args) in calls() {
        table += &format!("{label:<32}");
        for (arch, filter) in &filters {
            let verdict = match arch.syscall(name) {
                Some(number) => filter
                    .evaluate(arch.audit(), number.into(), args)
                    .to_string(),
                None => "(no such call)".to_string(),
            };
            table += &format!("{verdict:<16}");
        }
        table = table.trim_end().to_string() + "\n";
    }
    insta::assert_snapshot!(table);
}

/// The filter against the rules it was compiled from, for every number the
/// tables have and a few argument patterns, on both architectures, with
/// and without CAP_SYS_ADMIN, and on a kernel before and after 4.8.
#[test]
fn default_profile_filter_agrees_with_its_rules_on_every_call() {
    let profile = Profile::docker_default();
    let patterns = [[0; 6], [CLONE_NEWUSER; 6], [AF_VSOCK; 6], [u64::MAX; 6]];
    for arch in [Arch::X86_64, Arch::Aarch64] {
        for sys_admin in [false, true] {
            for kernel in [(4, 4), (6, 1)] {
                let target = Target {
                    kernel,
                    ..target(arch, sys_admin)
                };
                let rules = profile.rules(&target);
                let filter = rules.compile().unwrap();
                for number in 0..600u32 {
                    for args in patterns {
                        assert_eq!(
                            filter.evaluate(arch.audit(), number.into(), args),
                            rules.verdict(number, args),
                            "{arch} call {number} sys_admin {sys_admin} kernel {kernel:?}"
                        );
                    }
                }
            }
        }
    }
}

/// Every number up to 1024 (far past the last call of either table) and
/// the ends of the 32-bit range, through the native door, the x32 door and
/// another architecture's: the binary search over ranges must decide each
/// as the rules say, and the other doors must get the default.
#[test]
fn every_number_through_every_door_gets_the_rules_verdict() {
    let profile = Profile::docker_default();
    let patterns = [
        [0; 6],
        [8; 6],
        [CLONE_NEWUSER; 6],
        [AF_VSOCK; 6],
        [0xffff_ffff; 6],
        [u64::MAX; 6],
    ];
    let i386 = 0x4000_0003;
    let numbers = (0..=1024).chain([0x3fff_ffff, 0x7fff_ffff, 0x8000_0000, u32::MAX]);
    let mut checked = 0;
    for arch in [Arch::X86_64, Arch::Aarch64] {
        let foreign = match arch {
            Arch::X86_64 => Arch::Aarch64.audit(),
            Arch::Aarch64 => Arch::X86_64.audit(),
        };
        for sys_admin in [false, true] {
            let rules = profile.rules(&target(arch, sys_admin));
            let filter = rules.compile().unwrap();
            for number in numbers.clone() {
                for args in patterns {
                    let verdict = |audit, nr: u32| filter.evaluate(audit, nr.into(), args);
                    let whose = format!("{arch} sys_admin {sys_admin} call {number:#x} {args:x?}");
                    assert_eq!(
                        verdict(arch.audit(), number),
                        rules.verdict(number, args),
                        "{whose}"
                    );
                    if arch == Arch::X86_64 {
                        assert_eq!(
                            verdict(arch.audit(), number | X32_SYSCALL_BIT),
                            rules.default,
                            "x32 {whose}"
                        );
                    }
                    assert_eq!(verdict(foreign, number), rules.default, "foreign {whose}");
                    assert_eq!(verdict(i386, number), rules.default, "i386 {whose}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 2 * 2 * (1025 + 4) * patterns.len());
}

/// The size of the program for docker's profile, so that a change to the
/// compiler that makes it longer shows here.
#[test]
fn default_profile_compiles_to_this_many_instructions() {
    let profile = Profile::docker_default();
    let mut table = String::new();
    for arch in [Arch::X86_64, Arch::Aarch64] {
        for sys_admin in [false, true] {
            let filter = profile.compile(&target(arch, sys_admin)).unwrap();
            let caps = if sys_admin { " +SYS_ADMIN" } else { "" };
            table += &format!(
                "{:<24}{} instructions\n",
                format!("{arch}{caps}"),
                filter.instructions().len()
            );
        }
    }
    insta::assert_snapshot!(table);
}

#[test]
fn ptrace_needs_linux_4_8_or_cap_sys_ptrace() {
    let profile = Profile::docker_default();
    let ptrace: i64 = Arch::X86_64.syscall("ptrace").unwrap().into();
    let verdict = |kernel, caps: &[&str]| {
        let target = Target {
            arch: Arch::X86_64,
            capabilities: caps.iter().map(|c| c.to_string()).collect(),
            kernel,
        };
        profile
            .compile(&target)
            .unwrap()
            .evaluate(Arch::X86_64.audit(), ptrace, [0; 6])
    };
    assert_eq!(verdict((4, 8), &[]), Action::Allow);
    assert_eq!(verdict((4, 7), &[]), Action::Errno(1));
    assert_eq!(verdict((4, 7), &["CAP_SYS_PTRACE"]), Action::Allow);
}

#[test]
fn names_the_architecture_lacks_are_skipped() {
    let rules = Profile::docker_default().rules(&target(Arch::Aarch64, false));
    // aarch64 has only the *at forms of the old file calls.
    for name in ["open", "stat", "chmod"] {
        assert!(rules.unknown_names.contains(name), "{name}");
    }
    // arch_prctl's entry is for amd64 only, so it is not even looked up.
    assert!(!rules.unknown_names.contains("arch_prctl"));
}
