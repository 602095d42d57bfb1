//! The compiler on small hand-written profiles: what it writes, and that
//! what it writes decides as the rules say, down to the 64-bit edges that
//! two 32-bit comparisons can get wrong.

#![allow(clippy::unwrap_used)]

use cratebox_seccomp::{Action, Arch, CompileError, Profile, Target};

/// Every action and every comparison, once. `lseek` has two checks that
/// must both pass; `mmap` two rules with different actions; `ioctl` a rule
/// after one that always matches, which can never be reached.
const EVERY_OP_AND_ACTION: &str = r#"{
  "defaultAction": "SCMP_ACT_KILL_PROCESS",
  "syscalls": [
    { "names": ["read"], "action": "SCMP_ACT_ALLOW" },
    { "names": ["write"], "action": "SCMP_ACT_LOG" },
    { "names": ["close"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9 },
    { "names": ["getpid"], "action": "SCMP_ACT_TRAP" },
    { "names": ["getppid"], "action": "SCMP_ACT_TRACE", "errnoRet": 7 },
    { "names": ["gettid"], "action": "SCMP_ACT_KILL" },
    { "names": ["tkill"], "action": "SCMP_ACT_KILL_THREAD" },
    { "names": ["exit"], "action": "SCMP_ACT_KILL_PROCESS" },
    { "names": ["lseek"], "action": "SCMP_ACT_ALLOW",
      "args": [ { "index": 2, "value": 2, "op": "SCMP_CMP_LT" },
                { "index": 0, "value": 0, "op": "SCMP_CMP_NE" } ] },
    { "names": ["mmap"], "action": "SCMP_ACT_ALLOW",
      "args": [ { "index": 1, "value": 4294967296, "op": "SCMP_CMP_LE" } ] },
    { "names": ["mmap"], "action": "SCMP_ACT_ERRNO", "errnoRet": 12,
      "args": [ { "index": 1, "value": 4294967296, "op": "SCMP_CMP_GT" } ] },
    { "names": ["dup2"], "action": "SCMP_ACT_ALLOW",
      "args": [ { "index": 1, "value": 3, "op": "SCMP_CMP_GE" } ] },
    { "names": ["socket"], "action": "SCMP_ACT_ALLOW",
      "args": [ { "index": 0, "value": 2, "op": "SCMP_CMP_EQ" },
                { "index": 1, "value": 15, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ" } ] },
    { "names": ["ioctl"], "action": "SCMP_ACT_ALLOW" },
    { "names": ["ioctl"], "action": "SCMP_ACT_ERRNO",
      "args": [ { "index": 1, "value": 21505, "op": "SCMP_CMP_EQ" } ] }
  ]
}"#;

fn x86_64() -> Target {
    Target {
        arch: Arch::X86_64,
        capabilities: vec![],
        kernel: (6, 1),
    }
}

fn nr(name: &str) -> i64 {
    Arch::X86_64.syscall(name).unwrap().into()
}

#[test]
fn every_op_and_action_compiles_to_this_program() {
    let filter = Profile::from_json(EVERY_OP_AND_ACTION)
        .unwrap()
        .compile(&x86_64())
        .unwrap();
    insta::assert_snapshot!(filter.disassemble());
}

#[test]
fn every_action_is_returned_as_written() {
    let filter = Profile::from_json(EVERY_OP_AND_ACTION)
        .unwrap()
        .compile(&x86_64())
        .unwrap();
    let verdict = |name| filter.evaluate(Arch::X86_64.audit(), nr(name), [0; 6]);
    assert_eq!(verdict("read"), Action::Allow);
    assert_eq!(verdict("write"), Action::Log);
    assert_eq!(verdict("close"), Action::Errno(9));
    assert_eq!(verdict("getpid"), Action::Trap);
    assert_eq!(verdict("getppid"), Action::Trace(7));
    assert_eq!(verdict("gettid"), Action::KillThread);
    assert_eq!(verdict("tkill"), Action::KillThread);
    assert_eq!(verdict("exit"), Action::KillProcess);
    assert_eq!(verdict("ioctl"), Action::Allow);
    assert_eq!(
        verdict("uname"),
        Action::KillProcess,
        "no rule: the default"
    );
}

/// Values on both sides of the 32-bit boundaries, where a comparison that
/// looked at one word only would go wrong.
const EDGES: [u64; 12] = [
    0,
    1,
    2,
    3,
    0xffff_ffff,
    0x1_0000_0000,
    0x1_0000_0001,
    0x1_0000_0002,
    0x2_0000_0000,
    0xffff_ffff_0000_0000,
    0x7fff_ffff_ffff_ffff,
    u64::MAX,
];

fn op_profile(op: &str, value: u64, value_two: u64) -> Profile {
    Profile::from_json(&format!(
        r#"{{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ {{ "names": ["read"],
              "action": "SCMP_ACT_ALLOW",
              "args": [ {{ "index": 3, "value": {value}, "valueTwo": {value_two}, "op": "{op}" }} ] }} ] }}"#
    ))
    .unwrap()
}

#[test]
fn comparisons_hold_across_the_high_word() {
    let ops = [
        "SCMP_CMP_NE",
        "SCMP_CMP_LT",
        "SCMP_CMP_LE",
        "SCMP_CMP_EQ",
        "SCMP_CMP_GE",
        "SCMP_CMP_GT",
    ];
    let mut table = String::new();
    for op in ops {
        for value in [1, 0xffff_ffff, 0x1_0000_0001] {
            let filter = op_profile(op, value, 0).compile(&x86_64()).unwrap();
            let passed: Vec<String> = EDGES
                .iter()
                .filter(|&&arg| {
                    let mut args = [0; 6];
                    args[3] = arg;
                    filter.evaluate(Arch::X86_64.audit(), nr("read"), args) == Action::Allow
                })
                .map(|arg| format!("{arg:#x}"))
                .collect();
            table += &format!("arg {op} {value:#x}: {}\n", passed.join(" "));
        }
    }
    insta::assert_snapshot!(table);
}

#[test]
fn compiled_comparisons_agree_with_the_rules_everywhere_on_the_edges() {
    let mut checked = 0;
    for op in [
        "SCMP_CMP_NE",
        "SCMP_CMP_LT",
        "SCMP_CMP_LE",
        "SCMP_CMP_EQ",
        "SCMP_CMP_GE",
        "SCMP_CMP_GT",
        "SCMP_CMP_MASKED_EQ",
    ] {
        for value in EDGES {
            for value_two in [0, 1, 0x1_0000_0000] {
                let rules = op_profile(op, value, value_two).rules(&x86_64());
                let filter = rules.compile().unwrap();
                for arg in EDGES {
                    let mut args = [0; 6];
                    args[3] = arg;
                    let read = 0;
                    assert_eq!(
                        filter.evaluate(Arch::X86_64.audit(), read, args),
                        rules.verdict(0, args),
                        "{op} value {value:#x} valueTwo {value_two:#x} on {arg:#x}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 7 * 12 * 3 * 12);
}

#[test]
fn masked_eq_compares_each_word_under_its_mask() {
    // (arg & 0xff_0000_00ff) == 0x12_0000_0034
    let filter = op_profile("SCMP_CMP_MASKED_EQ", 0xff_0000_00ff, 0x12_0000_0034)
        .compile(&x86_64())
        .unwrap();
    let allowed = |arg: u64| {
        filter.evaluate(Arch::X86_64.audit(), nr("read"), [0, 0, 0, arg, 0, 0]) == Action::Allow
    };
    assert!(allowed(0x12_0000_0034));
    assert!(allowed(0xab12_ffff_ff34));
    assert!(!allowed(0x13_0000_0034), "high word differs under the mask");
    assert!(!allowed(0x12_0000_0035), "low word differs under the mask");
}

#[test]
fn other_abis_and_x32_calls_get_the_default() {
    let filter = Profile::from_json(EVERY_OP_AND_ACTION)
        .unwrap()
        .compile(&x86_64())
        .unwrap();
    // AUDIT_ARCH_I386: read is 3 there, close is 6; neither is looked up.
    let i386 = 0x4000_0003;
    assert_eq!(filter.evaluate(i386, 3, [0; 6]), Action::KillProcess);
    let x32_read = 0x4000_0000;
    assert_eq!(
        filter.evaluate(Arch::X86_64.audit(), x32_read, [0; 6]),
        Action::KillProcess
    );
    assert_eq!(
        filter.evaluate(Arch::X86_64.audit(), -1, [0; 6]),
        Action::KillProcess
    );
}

/// A profile with a conditional rule for every call the architecture has:
/// the search over them is longer than a conditional jump reaches, so the
/// compiler must use long jumps, and must still decide every call as the
/// rules say.
#[test]
fn a_profile_with_many_rules_compiles_and_decides_every_call() {
    for arch in [Arch::X86_64, Arch::Aarch64] {
        let mut entries = Vec::new();
        for number in 0..500 {
            if let Some(name) = arch.syscall_name(number) {
                entries.push(format!(
                    r#"{{ "names": ["{name}"], "action": "SCMP_ACT_ERRNO", "errnoRet": {errno},
                          "args": [ {{ "index": {index}, "value": {number}, "op": "SCMP_CMP_GT" }} ] }}"#,
                    errno = number % 4000 + 1,
                    index = number % 6,
                ));
            }
        }
        let text = format!(
            r#"{{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ {} ] }}"#,
            entries.join(",")
        );
        let target = Target { arch, ..x86_64() };
        let rules = Profile::from_json(&text).unwrap().rules(&target);
        let filter = rules.compile().unwrap();
        assert!(
            filter.instructions().len() > 2000,
            "{arch}: {}",
            filter.instructions().len()
        );
        // Each call's leaf in the search is a `ja` to its checks, with a
        // comment; a `ja` without one was put after a test in the search
        // whose other half lay out of a conditional jump's reach.
        let disassembly = filter.disassemble();
        let trampolines = disassembly
            .lines()
            .filter_map(|line| line.split_once(": "))
            .filter(|(_, text)| text.starts_with("ja ") && !text.contains(';'))
            .count();
        assert!(trampolines > 0, "{arch}: no long jump in\n{disassembly}");
        for number in 0..500u32 {
            for arg in [0, u64::from(number), u64::from(number) + 1, 1 << 40] {
                let args = [arg; 6];
                assert_eq!(
                    filter.evaluate(arch.audit(), number.into(), args),
                    rules.verdict(number, args),
                    "{arch} call {number} with {arg:#x}"
                );
            }
        }
    }
}

#[test]
fn a_program_past_the_kernels_limit_is_refused() {
    // 1000 values of one argument, each its own rule of six instructions.
    let entries: Vec<String> = (0..1000)
        .map(|value| {
            format!(
                r#"{{ "names": ["ioctl"], "action": "SCMP_ACT_ALLOW",
                      "args": [ {{ "index": 1, "value": {value}, "op": "SCMP_CMP_EQ" }} ] }}"#
            )
        })
        .collect();
    let text = format!(
        r#"{{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ {} ] }}"#,
        entries.join(",")
    );
    let error = Profile::from_json(&text)
        .unwrap()
        .compile(&x86_64())
        .unwrap_err();
    assert!(
        matches!(error, CompileError::TooLong { limit: 4096, .. }),
        "{error}"
    );
    insta::assert_snapshot!(error.to_string());
}
