//! # cratebox-testkit: helpers for tests that run real containers
//!
//! cratebox's isolation code is tested by doing it: real namespaces, real
//! mounts, as root. These helpers keep such tests honest:
//!
//! - [`require_root`]: a privileged test that cannot get root says
//!   "skipped: needs root" — and fails under `CI=true`, where a skip would
//!   hide that nothing was tested.
//! - [`TestEnv`]: a private state root in a temp dir with the demo image
//!   built in it, so tests never touch `/var/lib/cratebox`.
//! - [`LeakCheck`]: what the host looked like before (mounts, network
//!   namespaces, cgroups, processes rooted in the temp dir) compared with
//!   after. [`TestEnv::finish`] asserts nothing was left behind.
//! - [`host_namespaces`] and [`normalize_report`]: run the `probe` inside a
//!   container and turn its report into a stable snapshot.
//! - [`examples`] and [`shell`]: the command lines the README, the book and
//!   the chapter demos show, read from those files, and which programs they
//!   run inside a container; [`readme`] runs the README's on both demo
//!   image sources.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub mod examples;
mod leaks;
pub mod netns;
pub mod readme;
pub mod shell;

use leaks::Reaper;
pub use leaks::{command_running_in, LeakCheck};

use cratebox_demo_image::{SourceChoice, SOURCE_ENV};
pub use cratebox_demo_image::{BREAKOUT_PATH, MEMHOG_PATH, PROBE_PATH};

/// True when running as root. Otherwise prints "skipped: needs root" and
/// returns false — or panics when `CI=true`, where every privileged test
/// must really run.
pub fn require_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("this test needs root and CI=true: run the test suite as root (scripts/test does)");
    }
    eprintln!("skipped: needs root");
    false
}

/// The cgroup version, `"v1"` or `"v2"`, that a container's cgroup for
/// `controller` must be in on this machine; `None` where neither offers it.
///
/// `CRATEBOX_EXPECT_CGROUP=v1|v2` says it outright (scripts/test-vm sets
/// v2). Otherwise it is read from the layout systemd gives /sys/fs/cgroup,
/// not from the mount table the cgroups crate reads: a unified tree that
/// lists the controller, a v1 tree named after it, or a hybrid's v2 tree
/// at `unified` that lists it. A test that compares the version it got
/// with this one cannot pass by falling back to the other version.
pub fn expected_cgroup_version(controller: &str) -> Option<&'static str> {
    match std::env::var("CRATEBOX_EXPECT_CGROUP").as_deref() {
        Ok("v1") => return Some("v1"),
        Ok("v2") => return Some("v2"),
        Ok(other) => panic!("CRATEBOX_EXPECT_CGROUP={other}: say v1 or v2"),
        Err(_) => {}
    }
    let root = Path::new("/sys/fs/cgroup");
    let lists = |file: PathBuf| {
        fs::read_to_string(file).is_ok_and(|text| text.split_whitespace().any(|c| c == controller))
    };
    if lists(root.join("cgroup.controllers")) {
        Some("v2")
    } else if root.join(controller).join("tasks").exists() {
        Some("v1")
    } else if lists(root.join("unified/cgroup.controllers")) {
        Some("v2")
    } else {
        None
    }
}

/// Where an interop peer (skopeo, umoci, buildah) is installed. CI
/// installs them all; elsewhere a missing one skips the test that needs
/// it, and under `CI=true` fails it.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{name} is not installed, and CI=true: scripts/install-deps installs it");
        }
        eprintln!("skipped: {name} is not installed");
    }
    found
}

/// Run a peer tool, insist it succeeded, and return its stdout.
pub fn run_tool(program: &Path, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A temp state root with the demo image in it, plus a leak check taken
/// before anything ran.
#[derive(Debug)]
pub struct TestEnv {
    /// Declared before `dir`, so it is dropped first: see [`Reaper`].
    _reaper: Reaper,
    dir: tempfile::TempDir,
    rootfs: PathBuf,
    leaks: LeakCheck,
    /// The demo image source every command is told to use, when the test
    /// chose one; otherwise commands inherit `CRATEBOX_DEMO_SOURCE` (or its
    /// absence) from the test run.
    source: Option<SourceChoice>,
}

impl TestEnv {
    /// Build the demo image in a fresh temp state root.
    pub fn new() -> TestEnv {
        TestEnv::build(None)
    }

    /// Build the demo image from `source` in a fresh temp state root, and
    /// have every command made by [`TestEnv::command`] ask for it too:
    /// otherwise a chapter program would rebuild an image of the host's
    /// programs from busybox at its first start.
    pub fn with_demo_source(source: SourceChoice) -> TestEnv {
        TestEnv::build(Some(source))
    }

    fn build(source: Option<SourceChoice>) -> TestEnv {
        let leaks = LeakCheck::take();
        let dir = tempfile::Builder::new()
            .prefix("cratebox-test-")
            .tempdir()
            .expect("cannot create a temp dir for the test");
        let rootfs = match source {
            Some(choice) => cratebox_demo_image::ensure_with(dir.path(), choice),
            None => cratebox_demo_image::ensure(dir.path()),
        }
        .unwrap_or_else(|e| panic!("cannot build the demo image: {e}"));
        TestEnv {
            _reaper: Reaper(dir.path().to_path_buf()),
            dir,
            rootfs,
            leaks,
            source,
        }
    }

    /// The state root (what `CRATEBOX_ROOT` is set to for commands).
    pub fn state_root(&self) -> &Path {
        self.dir.path()
    }

    /// The demo image's root file system.
    pub fn rootfs(&self) -> &Path {
        &self.rootfs
    }

    /// A command for `program` (a chapter binary) with `CRATEBOX_ROOT` set
    /// to this env and stdin closed, so chapters run their demo, not a shell.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("CRATEBOX_ROOT", self.dir.path())
            .stdin(Stdio::null());
        if let Some(source) = self.source {
            command.env(SOURCE_ENV, source.as_str());
        }
        command
    }

    /// The probe's report about the test process itself, on the host.
    /// The probe is a static binary, so it runs here as well as in the image.
    pub fn host_report(&self) -> String {
        let probe = self.rootfs.join(PROBE_PATH.trim_start_matches('/'));
        let output = Command::new(&probe)
            .output()
            .expect("cannot run the probe on the host");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The host's capability bounding set, as the probe names it.
    pub fn host_bounding_set(&self) -> String {
        self.host_report()
            .lines()
            .find_map(|l| l.strip_prefix("  bounding: "))
            .unwrap_or_default()
            .to_string()
    }

    /// The demo image's root file system as a plain tar in the state root,
    /// for tests that `import` it; returns its path.
    pub fn rootfs_tar(&self) -> PathBuf {
        let path = self.dir.path().join("rootfs.tar");
        let file = fs::File::create(&path).expect("cannot create the rootfs tar");
        let mut builder = tar::Builder::new(file);
        builder.follow_symlinks(false);
        builder
            .append_dir_all(".", &self.rootfs)
            .expect("cannot tar the demo rootfs");
        builder.finish().expect("cannot finish the rootfs tar");
        path
    }

    /// Run `program` with `args`, insist it succeeded, and return its stdout.
    pub fn run_ok(&self, program: &str, args: &[&str]) -> String {
        let out = self.run(program, args);
        assert_eq!(out.code, 0, "{program} {args:?}: {out:?}");
        out.stdout
    }

    /// Run `program` with `args` and collect its output.
    pub fn run(&self, program: &str, args: &[&str]) -> Outcome {
        let output = self
            .command(program)
            .args(args)
            .output()
            .expect("cannot start the program under test");
        Outcome::from(output)
    }

    /// Remove the temp dir and assert the test left nothing behind: no
    /// mounts, no network namespaces, no cgroups, no processes rooted in
    /// the temp dir, and the temp dir itself gone.
    pub fn finish(self) {
        let path = self.dir.path().to_path_buf();
        self.leaks.assert_nothing_new(&path);
        self.dir
            .close()
            .unwrap_or_else(|e| panic!("cannot remove {}: {e}", path.display()));
        assert!(!path.exists(), "{} is still there", path.display());
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        TestEnv::new()
    }
}

/// Chapter 6's Debian image and local apt repository, which
/// `scripts/fixtures` makes (`scripts/test` runs it): their paths, or
/// `None` to skip; under `CI=true` their absence fails instead.
pub fn debian_fixtures() -> Option<(PathBuf, PathBuf)> {
    let dir = examples::workspace_root().join("target/fixtures");
    let (image, repo) = (dir.join("bookworm.tar"), dir.join("apt-repo"));
    if image.is_file() && repo.join("Packages").is_file() {
        return Some((image, repo));
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "{} is missing: run scripts/fixtures (scripts/test does)",
        dir.display()
    );
    eprintln!("skipped: no Debian fixtures (run scripts/fixtures)");
    None
}

/// What a finished program did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Its exit code (128 + signal when killed).
    pub code: i32,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl From<Output> for Outcome {
    fn from(output: Output) -> Self {
        use std::os::unix::process::ExitStatusExt;
        let code = output
            .status
            .code()
            .unwrap_or_else(|| 128 + output.status.signal().unwrap_or(0));
        Outcome {
            code,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Take turns: hold the guard for the whole of a test that creates
/// cgroups or mounts. A test's leak check looks for *any* new cratebox
/// cgroup or mount, and a neighbour's running container would be one, so
/// such tests in one test binary must not overlap.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The host's namespaces as the probe's `--host-ns` argument.
pub fn host_namespaces() -> String {
    let mut pairs = Vec::new();
    for name in ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"] {
        if let Ok(link) = fs::read_link(format!("/proc/self/ns/{name}")) {
            let link = link.to_string_lossy().into_owned();
            if let Some((_, inode)) = link.split_once('[') {
                pairs.push(format!("{name}={}", inode.trim_end_matches(']')));
            }
        }
    }
    pairs.join(",")
}

// ANCHOR: normalize_report
/// Make a probe report comparable across machines and runs, changing only
/// what varies for reasons other than isolation:
///
/// - a pid other than 1 or 2 becomes `[PID]`;
/// - the file system type of `/` (whatever the temp dir lives on) becomes `[FS]`;
/// - a capability set equal to the host's bounding set (`host_bounding`, as
///   the probe prints it on the host) becomes `[HOST BOUNDING SET]`: hosts
///   differ in which capabilities exist and which their admin dropped;
/// - cgroup lines lose their hierarchy ids and controller lists, which
///   depend on whether the host runs cgroup v1, v2 or both, and repeats go.
pub fn normalize_report(report: &str, host_bounding: &str) -> String {
    let mut out = Vec::new();
    let mut in_cgroup = false;
    let mut cgroups_seen = BTreeSet::new();
    for line in report.lines() {
        if let Some(pid) = line.strip_prefix("pid: ") {
            out.push(if pid == "1" || pid == "2" {
                line.to_string()
            } else {
                "pid: [PID]".to_string()
            });
            continue;
        }
        if line == "cgroup:" {
            in_cgroup = true;
            out.push(line.to_string());
            continue;
        }
        if in_cgroup && !line.starts_with("  ") {
            in_cgroup = false;
        }
        if in_cgroup {
            // "  4:memory:/some/path" → "  /some/path"
            let path = line.trim().splitn(3, ':').nth(2).unwrap_or(line.trim());
            if cgroups_seen.insert(path.to_string()) {
                out.push(format!("  {path}"));
            }
            continue;
        }
        if let Some((label, caps)) = line.split_once(": ") {
            if line.starts_with("  ") && caps == host_bounding && !caps.is_empty() {
                out.push(format!("{label}: [HOST BOUNDING SET]"));
                continue;
            }
        }
        if let Some(rest) = line.strip_prefix("  / ") {
            let options = rest.split_once(' ').map(|(_, o)| o).unwrap_or("");
            out.push(format!("  / [FS] {options}"));
            continue;
        }
        out.push(line.to_string());
    }
    out.join("\n") + "\n"
}
// ANCHOR_END: normalize_report
/// The exit codes every chapter program must give, as docker does: the
/// command's own code; 128 + the signal that killed it; 126 when the
/// command cannot be executed; 127 when it is not found.
pub const EXIT_CODE_CASES: [(&str, &[&str], i32); 4] = [
    ("its own code", &["/bin/sh", "-c", "exit 3"], 3),
    ("killed by SIGKILL", &["/bin/sh", "-c", "kill -9 $$"], 137),
    ("not executable", &["/etc/passwd"], 126),
    ("not found", &["no-such-command"], 127),
];

/// The whole of a chapter's exit-code test: [`assert_exit_codes`] in a
/// fresh [`TestEnv`], as root, leaving nothing behind.
pub fn check_exit_codes(program: &str, run_prefix: &[&str], own_failure: &[&str]) {
    if !require_root() {
        return;
    }
    let _turn = one_at_a_time();
    let env = TestEnv::new();
    assert_exit_codes(&env, program, run_prefix, own_failure);
    env.finish();
}

/// The whole of a test that a chapter 4+ program's `run` takes chapter
/// 2's isolation options: `--hostname`, and `--userns`, under which root
/// inside is uid 100000 outside and can still write its own layer.
pub fn check_run_isolation_options(program: &str) {
    if !require_root() {
        return;
    }
    let _turn = one_at_a_time();
    let env = TestEnv::new();
    let script = "hostname; cat /proc/self/uid_map; id -u; echo kept > /written; cat /written";
    let out = env.run_ok(
        program,
        &[
            "run",
            "--rm",
            "--userns",
            "--hostname",
            "web",
            "demo",
            "sh",
            "-c",
            script,
        ],
    );
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(
        words,
        ["web", "0", "100000", "65536", "0", "kept"],
        "{program}: {out}"
    );
    env.finish();
}

/// Run `program` with `run_prefix` (e.g. `["run", "--rm", "demo"]`, or
/// nothing for chapters 1–3) followed by each of [`EXIT_CODE_CASES`], and
/// `own_failure` (arguments that make the program itself fail, expected to
/// give 125), and panic listing every case that gave another code. Each
/// failure must also say why in one line on stderr.
pub fn assert_exit_codes(env: &TestEnv, program: &str, run_prefix: &[&str], own_failure: &[&str]) {
    let mut cases: Vec<(&str, Vec<&str>, i32)> = EXIT_CODE_CASES
        .iter()
        .map(|(what, command, code)| {
            let args = run_prefix.iter().chain(command.iter()).copied().collect();
            (*what, args, *code)
        })
        .collect();
    cases.push(("our own failure", own_failure.to_vec(), 125));
    let mut wrong = Vec::new();
    for (what, args, expected) in cases {
        let out = env.run(program, &args);
        let lines = out.stderr.lines().count();
        let one_line = !(125..=127).contains(&expected) || lines == 1;
        if out.code != expected || !one_line {
            wrong.push(format!(
                "{what}: {args:?} gave {} (expected {expected}), stderr: {:?}",
                out.code, out.stderr
            ));
        }
    }
    assert!(wrong.is_empty(), "{program}:\n{}", wrong.join("\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_keeps_isolation_facts_and_drops_machine_facts() {
        let report = "pid: 4711\nhostname: box\nmounts:\n  / ext4 rw\n  /proc proc rw,nosuid\ncgroup:\n  12:pids:/\n  11:memory:/\n  0::/\n";
        let report = format!(
            "{report}capabilities:\n  effective: all except sys_resource\n  inheritable: none\n"
        );
        insta::assert_snapshot!(normalize_report(&report, "all except sys_resource"));
    }

    #[test]
    fn host_namespaces_lists_at_least_the_classic_six() {
        let ns = host_namespaces();
        for name in ["ipc=", "mnt=", "net=", "pid=", "user=", "uts="] {
            assert!(ns.contains(name), "{ns}");
        }
    }
}
