//! Helpers shared by the integration tests: running a program chrooted into
//! a built image, the root-or-skip rule, and the leftover check.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

/// The host's static busybox as a source, or `None` after saying why the
/// test is skipped (and failing under CI, which installs busybox-static).
pub fn busybox_source() -> Option<cratebox_demo_image::Source> {
    match cratebox_demo_image::SourceChoice::Busybox.source() {
        Ok(source) => Some(source),
        Err(error) => {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "{error}");
            eprintln!("skipped the busybox source: {error}");
            None
        }
    }
}

/// True when the test may do privileged things. Otherwise it prints why it
/// is skipped, and under CI (`CI=true`) fails instead: a privileged test
/// that silently passes without running proves nothing.
pub fn have_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "this test needs root, and CI must run it"
    );
    eprintln!("skipped: needs root");
    false
}

/// Run `program args...` with `rootfs` as its root directory, with a clean
/// environment, and return its output.
pub fn run_chrooted(rootfs: &Path, program: &str, args: &[&str]) -> Output {
    // Built before fork: the child must not allocate (see below).
    let root = CString::new(rootfs.as_os_str().as_bytes()).expect("temp paths have no NUL byte");
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", "/bin:/usr/bin:/sbin:/usr/sbin");
    // SAFETY: pre_exec runs in the forked child before exec. The test harness
    // is multi-threaded, so the child may only call async-signal-safe code:
    // chroot(2) and chdir(2) on C strings prepared before the fork, and
    // building an io::Error from an errno, which does not allocate. Nothing
    // here touches locks or the heap. The program path is absolute, so exec
    // looks it up after the chroot, inside the image.
    unsafe {
        command.pre_exec(move || {
            nix::unistd::chroot(root.as_c_str())?;
            nix::unistd::chdir(c"/")?;
            Ok(())
        });
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} in {}: {e}", rootfs.display()))
}

/// Assert that `dir` holds exactly the entries named in `expected`.
pub fn assert_holds_only(dir: &Path, expected: &[&str]) {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| {
            let entry = e.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
            entry.file_name().to_string_lossy().into_owned()
        })
        .collect();
    names.sort();
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(names, expected, "unexpected leftovers in {}", dir.display());
}
