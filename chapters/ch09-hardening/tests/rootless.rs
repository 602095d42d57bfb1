//! Rootless, as a user meets it: an ordinary user, made by the test, runs
//! containers as root of its own user namespace.
//!
//! The user exists only for the test's commands: each runs under
//! `unshare --mount` with an overlay on /etc whose upper layer (a temp
//! dir) gives passwd, group, subuid and subgid a line for it. The host's
//! /etc is never written, and the user's state, runtime directory and
//! volumes are temp dirs too. Every container runs with `--network none`.

// Helpers outside test functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::BIN;
use cratebox_testkit::{one_at_a_time, require_root, LeakCheck, Outcome};

/// The test's user: a uid no one on a normal host has.
const UID: u32 = 41234;
/// Its subordinate ids.
const SUB_START: u32 = 300_000;

/// A user who exists only in the test's mount namespaces.
struct Learner {
    dir: tempfile::TempDir,
    /// Give the user subordinate ids (a user without any is a test too).
    subids: bool,
    /// The cgroup its commands start in (a delegated subtree's leaf).
    cgroup: Option<PathBuf>,
    /// More of its environment, `NAME=value`.
    env: Vec<String>,
    commands: std::cell::Cell<u32>,
}

impl Learner {
    fn new(subids: bool) -> Learner {
        let dir = tempfile::Builder::new()
            .prefix("cratebox-test-rootless-")
            .tempdir()
            .unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        for (path, mode) in [
            ("home", 0o755),
            ("run", 0o700),
            ("volume", 0o755),
            ("tmp", 0o700),
        ] {
            let path = dir.path().join(path);
            fs::create_dir(&path).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            std::os::unix::fs::chown(&path, Some(UID), Some(UID)).unwrap();
        }
        Learner {
            dir,
            subids,
            cgroup: None,
            env: Vec::new(),
            commands: std::cell::Cell::new(0),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A fresh upper layer for /etc: the host's files plus the user.
    fn etc_layer(&self) -> (PathBuf, PathBuf) {
        let n = self.commands.get();
        self.commands.set(n + 1);
        let (upper, work) = (
            self.path(&format!("etc-{n}")),
            self.path(&format!("etc-{n}.work")),
        );
        fs::create_dir(&upper).unwrap();
        fs::create_dir(&work).unwrap();
        let host =
            |name: &str| fs::read_to_string(Path::new("/etc").join(name)).unwrap_or_default();
        let with = |name: &str, line: String| {
            fs::write(upper.join(name), format!("{}{line}\n", host(name))).unwrap();
        };
        with(
            "passwd",
            format!("learner:x:{UID}:{UID}:A Learner:/nonexistent:/bin/sh"),
        );
        with("group", format!("learner:x:{UID}:"));
        let range = match self.subids {
            true => format!("learner:{SUB_START}:65536"),
            false => String::new(),
        };
        with("subuid", range.clone());
        with("subgid", range);
        (upper, work)
    }

    /// Run the chapter's program as the user.
    fn run(&self, args: &[&str]) -> Outcome {
        let (upper, work) = self.etc_layer();
        let join_cgroup = match &self.cgroup {
            Some(dir) => format!("echo $$ > {}/cgroup.procs && ", dir.display()),
            None => String::new(),
        };
        let script = format!(
            "{join_cgroup}mount -t overlay overlay -o lowerdir=/etc,upperdir={},workdir={} /etc && \
             exec setpriv --reuid={UID} --regid={UID} --clear-groups -- \
             env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME={} XDG_RUNTIME_DIR={} \
             XDG_DATA_HOME={} TMPDIR={} CI=true {} \"$@\"",
            upper.display(),
            work.display(),
            self.path("home").display(),
            self.path("run").display(),
            self.path("home/data").display(),
            self.path("tmp").display(),
            self.env.join(" "),
        );
        let output = Command::new("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                &script,
                "sh",
                BIN,
            ])
            .args(args)
            .current_dir(self.dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        Outcome::from(output)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        out.stdout
    }

    /// The pause process that holds the user's namespaces, if one was made.
    fn pause_pid(&self) -> Option<i32> {
        let text = fs::read_to_string(self.path("run/cratebox/pause.pid")).ok()?;
        text.trim().parse().ok()
    }

    /// Stop the pause process (the namespaces, and any mount in them, go
    /// with it). Its pid is only known from the file, and it is not our
    /// child: wait for it to be gone.
    fn stop_pause(&self) {
        let Some(pid) = self.pause_pid() else {
            return;
        };
        // Once only: a pid killed twice might be someone else's by then.
        let _ = fs::remove_file(self.path("run/cratebox/pause.pid"));
        let pid = nix::unistd::Pid::from_raw(pid);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        for _ in 0..200 {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Stop the pause process, check nothing is left, remove everything.
    fn finish(self, leaks: LeakCheck) {
        self.stop_pause();
        let path = self.dir.path().to_path_buf();
        leaks.assert_nothing_new(&path);
        // The containers, their supervisors, slirp4netns and the pause
        // process ran as the user (or its subordinate ids): none may be
        // left, once those that were told to end have had time to.
        for _ in 0..100 {
            if user_processes().is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let left = user_processes();
        assert!(left.is_empty(), "processes of the user are left: {left:?}");
    }
}

/// The processes of the test's user and its subordinate ids.
fn user_processes() -> Vec<String> {
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|entry| {
            entry
                .metadata()
                .is_ok_and(|m| m.uid() == UID || (SUB_START..SUB_START + 65536).contains(&m.uid()))
        })
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect()
}

impl Drop for Learner {
    /// A failed test leaves no pause process behind either.
    fn drop(&mut self) {
        self.stop_pause();
    }
}

fn setup() -> Option<(std::sync::MutexGuard<'static, ()>, LeakCheck)> {
    if !require_root() {
        return None;
    }
    let turn = one_at_a_time();
    Some((turn, LeakCheck::take()))
}

#[test]
fn a_user_runs_containers_as_root_of_its_own_user_namespace() {
    let Some((_turn, leaks)) = setup() else {
        return;
    };
    let learner = Learner::new(true);
    let id = learner.ok(&["run", "--rm", "--network", "none", "demo", "id"]);
    assert!(id.starts_with("uid=0(root) gid=0(root)"), "{id}");
    // The state is the user's: in its data directory, owned by it.
    let state = learner.path("home/data/cratebox");
    assert_eq!(fs::metadata(&state).unwrap().uid(), UID);

    learner.ok(&[
        "run",
        "-d",
        "--name",
        "long",
        "--network",
        "none",
        "demo",
        "sleep",
        "1000",
    ]);
    let inspect: serde_json::Value =
        serde_json::from_str(&learner.ok(&["inspect", "long"])).unwrap();
    let pid = inspect[0]["State"]["Pid"].as_u64().unwrap();
    // Outside, the container's root is the user.
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert_eq!(
        uid_line.split_whitespace().nth(1),
        Some(UID.to_string().as_str()),
        "{uid_line}"
    );
    assert_eq!(learner.ok(&["exec", "long", "id", "-u"]), "0\n");
    let ps = learner.ok(&["ps"]);
    assert!(ps.contains("long"), "{ps}");
    learner.ok(&["stop", "-t", "1", "long"]);
    learner.ok(&["rm", "long"]);
    assert_eq!(learner.ok(&["ps", "-aq"]), "");
    learner.finish(leaks);
}

#[test]
fn files_in_a_volume_belong_to_the_user_and_its_subordinate_ids() {
    let Some((_turn, leaks)) = setup() else {
        return;
    };
    let learner = Learner::new(true);
    let volume = format!("{}:/data", learner.path("volume").display());
    learner.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        &volume,
        "demo",
        "sh",
        "-c",
        "echo notes > /data/by-root && echo more > /data/by-one && chown 1:1 /data/by-one",
    ]);
    let owner = |name: &str| {
        fs::metadata(learner.path("volume").join(name))
            .unwrap()
            .uid()
    };
    assert_eq!(owner("by-root"), UID);
    assert_eq!(owner("by-one"), SUB_START);
    learner.finish(leaks);
}

#[test]
fn a_user_builds_an_image() {
    let Some((_turn, leaks)) = setup() else {
        return;
    };
    let learner = Learner::new(true);
    let context = cratebox_testkit::examples::workspace_root()
        .join("chapters/ch05-dockerfile/tests/fixtures/notes-server");
    let context = context.to_str().unwrap();
    learner.ok(&["build", "-t", "notes", context]);
    let images = learner.ok(&["images"]);
    assert!(images.contains("notes"), "{images}");
    let out = learner.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "notes",
        "cat",
        "/etc/server/server.conf",
    ]);
    assert!(!out.is_empty(), "{out}");
    // A layer's owners survive the id map both ways: a file the build gave
    // to uid 1 is uid 1 in the image, and the subordinate id on the host.
    let context = learner.path("owned");
    fs::create_dir(&context).unwrap();
    fs::write(
        context.join("Dockerfile"),
        "FROM demo\nRUN touch /owned && chown 1:1 /owned\n",
    )
    .unwrap();
    fs::set_permissions(&context, fs::Permissions::from_mode(0o755)).unwrap();
    learner.ok(&["build", "-t", "owned", context.to_str().unwrap()]);
    let out = learner.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "owned",
        "stat",
        "-c",
        "%u",
        "/owned",
    ]);
    assert_eq!(out, "1\n");
    let mut found = Vec::new();
    find_named(&learner.path("home/data/cratebox"), "owned", &mut found);
    assert!(
        found
            .iter()
            .any(|path| fs::metadata(path).unwrap().uid() == SUB_START),
        "no layer file /owned owned by {SUB_START}: {found:?}"
    );
    learner.finish(leaks);
}

/// Every file called `name` below `dir`, links not followed.
fn find_named(dir: &Path, name: &str, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => find_named(&path, name, found),
            Ok(kind) if kind.is_file() && entry.file_name() == name => found.push(path),
            _ => {}
        }
    }
}

/// What a user cannot do gets one line that says why and what to do.
#[test]
fn what_rootless_cannot_do_is_refused_with_the_reason() {
    let Some((_turn, leaks_without)) = setup() else {
        return;
    };
    let without = Learner::new(false);
    let out = without.run(&["run", "--rm", "--network", "none", "demo", "true"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("has no subordinate uids in /etc/subuid"),
        "{out:?}"
    );
    without.finish(leaks_without);

    let leaks = LeakCheck::take();
    let learner = Learner::new(true);
    for (args, says) in [
        (
            vec!["run", "--rm", "--network", "bridge", "demo", "true"],
            "no bridge network",
        ),
        (
            vec![
                "run",
                "--rm",
                "--network",
                "none",
                "-m",
                "64m",
                "demo",
                "true",
            ],
            "cannot be given limits",
        ),
    ] {
        let out = learner.run(&args);
        assert_ne!(out.code, 0, "{args:?}: {out:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {out:?}");
        assert!(out.stderr.contains(says), "{args:?}: {out:?}");
    }
    assert_eq!(learner.ok(&["ps", "-aq"]), "");
    learner.finish(leaks);
}

/// slirp4netns gives a rootless container a network: an address on tap0,
/// and the host's loopback at 10.0.2.2, where the test listens.
#[test]
fn slirp4netns_connects_a_rootless_container() {
    let Some((_turn, leaks)) = setup() else {
        return;
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"pong\n").unwrap();
        let mut got = String::new();
        stream.read_to_string(&mut got).unwrap();
        got
    });
    let learner = Learner::new(true);
    let script = format!(
        "ip -4 addr show tap0 | grep -o 'inet [0-9./]*'; echo ping | busybox nc 10.0.2.2 {port}"
    );
    let out = learner.ok(&[
        "run",
        "--rm",
        "--network",
        "slirp4netns",
        "-v",
        "/bin/busybox:/bin/busybox:ro",
        "demo",
        "sh",
        "-c",
        &script,
    ]);
    assert_eq!(out, "inet 10.0.2.100/24\npong\n", "{out}");
    assert_eq!(server.join().unwrap(), "ping\n");
    learner.finish(leaks);
}

/// On cgroup v2, a subtree delegated to the user (as systemd delegates
/// user@UID.service) lets rootless containers have limits: their cgroups
/// are made in it. The test delegates one as systemd would: a directory
/// the user owns, with a leaf its commands start in.
#[test]
fn limits_in_a_cgroup_v2_subtree_delegated_to_the_user() {
    let Some((_turn, leaks)) = setup() else {
        return;
    };
    let mut learner = Learner::new(true);
    if cratebox_testkit::expected_cgroup_version("memory") != Some("v2") {
        // No v2 memory controller to delegate: limits are refused, as the
        // refusal test checks; nothing more to see here.
        eprintln!("skipped the delegation: memory is not on cgroup v2 here");
        learner.finish(leaks);
        return;
    }
    let root = Path::new("/sys/fs/cgroup");
    let top = root.join(format!("cratebox-test-learner-{}", std::process::id()));
    let session = top.join("session");
    fs::write(root.join("cgroup.subtree_control"), "+memory +pids").unwrap();
    for dir in [&top, &session] {
        fs::create_dir(dir).unwrap();
        for file in [
            "",
            "cgroup.procs",
            "cgroup.subtree_control",
            "cgroup.threads",
        ] {
            std::os::unix::fs::chown(dir.join(file), Some(UID), Some(UID)).unwrap();
        }
    }
    learner.cgroup = Some(session.clone());
    learner.ok(&[
        "run",
        "-d",
        "--name",
        "limited",
        "--network",
        "none",
        "-m",
        "64m",
        "--pids-limit",
        "20",
        "demo",
        "sleep",
        "1000",
    ]);
    let made: Vec<PathBuf> = fs::read_dir(top.join("cratebox"))
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");
    let read = |file: &str| fs::read_to_string(made[0].join(file)).unwrap();
    assert_eq!(read("memory.max"), "67108864\n");
    assert_eq!(read("pids.max"), "20\n");
    learner.ok(&["rm", "-f", "limited"]);
    // The container's cgroup went with it; the user's leaves are the test's.
    assert!(!made[0].exists(), "{} is left", made[0].display());
    // The pause process started in the leaf too: it must go before the
    // leaf can.
    learner.stop_pause();
    // (cratebox removes its own `cratebox` directory once it is empty.)
    for dir in [top.join("cratebox"), session, top] {
        match fs::remove_dir(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                panic!("rmdir {}: {e}", dir.display())
            }
            _ => {}
        }
    }
    learner.finish(leaks);
}

/// Where the kernel mounts no overlayfs in a user namespace (before 5.11),
/// rootless cratebox mounts the layers with fuse-overlayfs instead;
/// `CRATEBOX_OVERLAY=fuse-overlayfs` asks for it on any kernel.
#[test]
fn fuse_overlayfs_mounts_the_layers_when_asked() {
    let Some((_turn, leaks)) = setup() else {
        return;
    };
    let mut learner = Learner::new(true);
    learner.env.push("CRATEBOX_OVERLAY=fuse-overlayfs".into());
    let out = learner.ok(&[
        "run", "--rm", "--network", "none", "demo", "sh", "-c",
        "grep -c ' / / .* - fuse.fuse-overlayfs ' /proc/self/mountinfo; echo written > /etc/notes && cat /etc/notes",
    ]);
    assert_eq!(out, "1\nwritten\n", "{out}");
    learner.finish(leaks);
}
