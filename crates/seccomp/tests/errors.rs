//! Every kind of broken profile, and the one line that says what to fix.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use cratebox_seccomp::{Profile, ProfileErrorKind};

const BROKEN: [&str; 12] = [
    // not JSON
    r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ }"#,
    // a required field missing
    r#"{"syscalls": []}"#,
    // a field of the wrong type
    r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]}"#,
    // unknown default action
    r#"{"defaultAction": "SCMP_ACT_DENY"}"#,
    // unknown action in an entry
    r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["foo"], "action": "SCMP_ACT_BOGUS"}]}"#,
    // unknown op
    r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["socket", "socketpair", "bind", "listen"],
        "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"},
                                             {"index": 1, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]}"#,
    // argument index past 5
    r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["mmap"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}]}"#,
    // errno out of range
    r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO",
        "errnoRet": 70000}]}"#,
    // name and names
    r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]}"#,
    // neither
    r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]}"#,
    // minKernel that is not a version
    r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW",
        "includes": {"minKernel": "four point eight"}}]}"#,
    // both ways to list architectures
    r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": null}]}"#,
];

#[test]
fn each_broken_profile_gets_one_line_naming_the_fix() {
    let messages: Vec<String> = BROKEN
        .iter()
        .map(|text| Profile::from_json(text).unwrap_err().to_string())
        .collect();
    for message in &messages {
        assert!(!message.contains('\n'), "one line: {message}");
    }
    insta::assert_snapshot!(messages.join("\n"));
}

#[test]
fn a_missing_file_is_named() {
    let error = Profile::read(Path::new("/nonexistent/seccomp.json")).unwrap_err();
    assert!(matches!(error.kind, ProfileErrorKind::Read(_)));
    insta::assert_snapshot!(error.to_string());
}

#[test]
fn an_error_in_a_file_names_the_file_and_the_entry() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("seccomp-errors");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("profile.json");
    std::fs::write(&path, BROKEN[4]).unwrap();
    let error = Profile::read(&path).unwrap_err();
    assert_eq!(error.file.as_deref(), Some(path.as_path()));
    insta::with_settings!({ filters => vec![(env!("CARGO_TARGET_TMPDIR"), "[TMP]")] }, {
        insta::assert_snapshot!(error.to_string());
    });
}

#[test]
fn a_good_file_reads_like_its_text() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("seccomp-errors");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("default.json");
    let text = include_str!("../profiles/default.json");
    std::fs::write(&path, text).unwrap();
    assert_eq!(Profile::read(&path).unwrap(), Profile::docker_default());
}
