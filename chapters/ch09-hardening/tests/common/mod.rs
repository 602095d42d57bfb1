//! What chapter 9's tests share: the program, and reading the probe's
//! security report.

// Each test file uses some of these, not all.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::MutexGuard;

use cratebox_testkit::{one_at_a_time, require_root, Outcome, TestEnv};

/// The chapter's program.
pub const BIN: &str = env!("CARGO_BIN_EXE_ch09-hardening");

/// docker's default capabilities, as the probe names them (bit order).
pub const DOCKER_DEFAULT: &str = "chown,dac_override,fowner,fsetid,kill,setgid,setuid,setpcap,\
     net_bind_service,net_raw,sys_chroot,mknod,audit_write,setfcap";

/// Our turn and a fresh state root with the demo image; `None` where the
/// test cannot run (not root, outside CI).
pub fn setup() -> Option<(MutexGuard<'static, ()>, TestEnv)> {
    if !require_root() {
        return None;
    }
    let turn = one_at_a_time();
    Some((turn, TestEnv::new()))
}

/// Run the program with `args`.
pub fn run(env: &TestEnv, args: &[&str]) -> Outcome {
    env.run(BIN, args)
}

/// Run the program with `args`, insist it succeeded; its stdout.
pub fn ok(env: &TestEnv, args: &[&str]) -> String {
    env.run_ok(BIN, args)
}

/// `run --rm --network none` (no test touches the host's network) with
/// `options`, then `demo` and `command`.
pub fn in_container(env: &TestEnv, options: &[&str], command: &[&str]) -> Outcome {
    let mut args = vec!["run", "--rm", "--network", "none"];
    args.extend_from_slice(options);
    args.push("demo");
    args.extend_from_slice(command);
    run(env, &args)
}

/// The probe's security report from inside a container made with
/// `options`: each `key: value` line, keys of indented lines prefixed by
/// their section (`capabilities.effective`, `masked./proc/kcore`).
pub fn security_report(env: &TestEnv, options: &[&str]) -> BTreeMap<String, String> {
    let out = in_container(env, options, &["/usr/local/bin/probe", "--security"]);
    assert_eq!(out.code, 0, "probe --security with {options:?}: {out:?}");
    parse_report(&out.stdout)
}

/// Read a security report.
pub fn parse_report(text: &str) -> BTreeMap<String, String> {
    let mut facts = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines() {
        let indented = line.starts_with(' ');
        let Some((key, value)) = line.trim().rsplit_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match (indented, value.is_empty()) {
            (false, true) => section = key.to_string(),
            (false, false) => {
                section.clear();
                facts.insert(key.to_string(), value.to_string());
            }
            (true, _) => {
                facts.insert(format!("{section}.{key}"), value.to_string());
            }
        }
    }
    facts
}

/// The escape suite run inside a container made with `options` (only
/// the attempts `names`, or all of them).
pub fn escape(env: &TestEnv, options: &[&str], names: &[&str]) -> Outcome {
    let mut command = vec!["/usr/local/bin/escape"];
    command.extend_from_slice(names);
    in_container(env, options, &command)
}

/// The verdict (`refused` or `ALLOWED`) on the line of the attempt called
/// `title` in the escape suite's output.
pub fn verdict<'a>(output: &'a str, title: &str) -> &'a str {
    output
        .lines()
        .find(|line| line.contains(title))
        .and_then(|line| line.split_whitespace().next())
        .unwrap_or_else(|| panic!("no attempt {title:?} in:\n{output}"))
}
