//! The OCI runtime validation suite (opencontainers/runtime-tools), built
//! from source by `scripts/oci-validation`, run against cratebox-runtime:
//! every test the runtime is expected to pass must pass (the script lists
//! them, and why the others are left out).

use std::process::Command;

use cratebox_testkit::{examples::workspace_root, one_at_a_time, require_root, LeakCheck};

#[test]
fn the_validation_suite_passes_what_the_runtime_supports() {
    if !require_root() {
        return;
    }
    let _turn = one_at_a_time();
    let leaks = LeakCheck::take();
    let dir = tempfile::Builder::new()
        .prefix("cratebox-test-")
        .tempdir()
        .expect("a temp dir");
    let out = Command::new(workspace_root().join("scripts/oci-validation"))
        .args([
            "--runtime",
            env!("CARGO_BIN_EXE_cratebox-runtime"),
            "--expected",
        ])
        .env("TMPDIR", dir.path())
        .output()
        .expect("cannot run scripts/oci-validation");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // A mount outside the test's directory may be another program's, made
    // meanwhile (the script says so); the leak check below has the last word.
    let leaks_reported: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("leak:") && !l.contains("or another program made them"))
        .collect();
    assert!(leaks_reported.is_empty(), "{stdout}");
    assert!(
        stdout.contains("oci-validation: all 32 tests passed"),
        "{stdout}"
    );
    leaks.assert_nothing_new(dir.path());
    dir.close().expect("the temp dir goes");
}
