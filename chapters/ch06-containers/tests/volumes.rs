//! Volumes, bind mounts and tmpfs mounts, on real containers as root; and
//! the notes' story end to end: a Debian container, a host directory
//! holding an apt repository, `exec ... apt-get install`, `commit`.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;

use common::{ok, run, setup};
use cratebox_testkit::require_root;

#[test]
fn binds_volumes_and_tmpfs() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let site = env.state_root().join("site");
    fs::create_dir(&site).unwrap();
    fs::write(site.join("index.html"), "from the host\n").unwrap();
    let bind = format!("{}:/www:ro", site.display());
    // A bind mount shows the host's directory; :ro keeps it so.
    let seen = run(
        &env,
        &[
            "run",
            "--rm",
            "-v",
            &bind,
            "demo",
            "sh",
            "-c",
            "cat /www/index.html; echo x > /www/new",
        ],
    );
    assert_eq!(seen.stdout, "from the host\n");
    assert_ne!(seen.code, 0);
    assert!(seen.stderr.contains("Read-only file system"), "{seen:?}");
    assert!(!site.join("new").exists());
    // Writable, the host sees what the container writes.
    let rw = format!("{}:/www", site.display());
    ok(
        &env,
        &[
            "run",
            "--rm",
            "-v",
            &rw,
            "demo",
            "sh",
            "-c",
            "echo written > /www/new",
        ],
    );
    assert_eq!(fs::read_to_string(site.join("new")).unwrap(), "written\n");
    // A single file, read-only: the remount is of a file's mount point.
    let file = format!("{}:/etc/motd:ro", site.join("index.html").display());
    let seen = run(
        &env,
        &[
            "run",
            "--rm",
            "-v",
            &file,
            "demo",
            "sh",
            "-c",
            "cat /etc/motd; echo x > /etc/motd",
        ],
    );
    assert_eq!(seen.stdout, "from the host\n", "{seen:?}");
    assert!(seen.stderr.contains("Read-only file system"), "{seen:?}");
    assert_eq!(
        fs::read_to_string(site.join("index.html")).unwrap(),
        "from the host\n"
    );
    // -v makes a missing host directory; --mount refuses it.
    let made = env.state_root().join("made/by/v");
    ok(
        &env,
        &[
            "run",
            "--rm",
            "-v",
            &format!("{}:/x", made.display()),
            "demo",
            "true",
        ],
    );
    assert!(made.is_dir());
    let missing = env.state_root().join("missing");
    let refused = run(
        &env,
        &[
            "run",
            "--rm",
            "--mount",
            &format!("type=bind,source={},target=/x", missing.display()),
            "demo",
            "true",
        ],
    );
    assert_eq!(refused.code, 125);
    assert!(refused.stderr.contains("does not exist"), "{refused:?}");
    assert!(!missing.exists());

    // A named volume outlives its containers, and starts as a copy of what
    // the image has where it is mounted.
    ok(
        &env,
        &[
            "run",
            "--rm",
            "-v",
            "etc:/etc",
            "demo",
            "sh",
            "-c",
            "echo kept > /etc/note",
        ],
    );
    let again = ok(
        &env,
        &[
            "run",
            "--rm",
            "-v",
            "etc:/data",
            "demo",
            "sh",
            "-c",
            "cat /data/note; test -s /data/passwd && echo copied",
        ],
    );
    assert_eq!(again, "kept\ncopied\n");
    assert!(ok(&env, &["volume", "ls"]).contains("local     etc"));
    // An anonymous volume goes with rm -v; a volume in use cannot go.
    ok(
        &env,
        &[
            "run", "-d", "--name", "user", "-v", "etc:/etc", "-v", "/cache", "demo", "sleep",
            "1000",
        ],
    );
    let mounts = ok(&env, &["inspect", "user"]);
    let mounts: serde_json::Value = serde_json::from_str(&mounts).unwrap();
    let mounts = mounts[0]["Mounts"].as_array().unwrap().clone();
    assert_eq!(mounts.len(), 2);
    assert_eq!(mounts[1]["Destination"], "/cache");
    let anonymous = mounts[1]["Name"].as_str().unwrap().to_string();
    let busy = run(&env, &["volume", "rm", "etc"]);
    assert_eq!(busy.code, 1);
    assert!(busy.stderr.contains("in use"), "{busy:?}");
    ok(&env, &["rm", "-f", "-v", "user"]);
    let left = ok(&env, &["volume", "ls", "-q"]);
    assert_eq!(
        left, "etc\n",
        "the anonymous volume {anonymous} went with rm -v"
    );
    ok(&env, &["volume", "rm", "etc"]);
    // create, inspect, prune: an unused named volume goes only with -a.
    assert_eq!(ok(&env, &["volume", "create", "kept"]), "kept\n");
    let inspected: serde_json::Value =
        serde_json::from_str(&ok(&env, &["volume", "inspect", "kept"])).unwrap();
    let mountpoint = inspected[0]["Mountpoint"].as_str().unwrap().to_string();
    assert!(std::path::Path::new(&mountpoint).is_dir(), "{inspected}");
    ok(&env, &["volume", "prune"]);
    assert_eq!(ok(&env, &["volume", "ls", "-q"]), "kept\n");
    ok(&env, &["volume", "prune", "-a"]);
    assert_eq!(ok(&env, &["volume", "ls", "-q"]), "");
    assert!(!std::path::Path::new(&mountpoint).exists());

    // tmpfs: in memory, with the size asked for.
    let df = ok(
        &env,
        &[
            "run",
            "--rm",
            "--tmpfs",
            "/run:size=1m",
            "demo",
            "sh",
            "-c",
            "grep ' /run ' /proc/mounts",
        ],
    );
    assert!(
        df.starts_with("tmpfs /run tmpfs") && df.contains("size=1024k"),
        "{df}"
    );
    env.finish();
}

#[test]
fn a_mount_target_never_leads_out_of_the_container() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    // An image whose /link points at a host directory by absolute path:
    // inside the container that path is the container's own.
    let outside = env.state_root().join("outside");
    fs::create_dir(&outside).unwrap();
    let link = format!("ln -s {} /link", outside.display());
    ok(&env, &["run", "--name", "mk", "demo", "sh", "-c", &link]);
    ok(&env, &["commit", "mk", "linked"]);
    let inside = ok(
        &env,
        &[
            "run",
            "--rm",
            "-v",
            "vol:/link/sub",
            "linked",
            "sh",
            "-c",
            "ls -d /link/sub && readlink /link",
        ],
    );
    assert!(inside.contains("/link/sub"), "{inside}");
    assert_eq!(
        fs::read_dir(&outside).unwrap().count(),
        0,
        "nothing made on the host"
    );
    ok(&env, &["rm", "mk"]);
    env.finish();
}

#[test]
fn the_notes_story_apt_get_in_a_running_container_then_commit() {
    if !require_root() {
        return;
    }
    let Some((image, repo)) = cratebox_testkit::debian_fixtures() else {
        return;
    };
    let Some((_turn, env)) = setup() else {
        return;
    };
    ok(
        &env,
        &["import", image.to_str().unwrap(), "debian:bookworm"],
    );
    let repo_mount = format!("{}:/repo:ro", repo.display());
    ok(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "web",
            "-v",
            &repo_mount,
            "debian:bookworm",
            "sleep",
            "infinity",
        ],
    );
    let before = run(&env, &["exec", "web", "hello"]);
    assert_eq!(before.code, 127, "{before:?}");
    let install = run(
        &env,
        &[
            "exec", "web", "sh", "-c",
            "echo 'deb [trusted=yes] file:/repo ./' > /etc/apt/sources.list && apt-get update && apt-get install -y hello",
        ],
    );
    assert_eq!(install.code, 0, "{install:?}");
    assert_eq!(ok(&env, &["exec", "web", "hello"]), "Hello, world!\n");
    ok(&env, &["commit", "web", "debian-hello"]);
    assert_eq!(
        ok(&env, &["run", "--rm", "debian-hello", "hello"]),
        "Hello, world!\n"
    );
    let original = run(&env, &["run", "--rm", "debian:bookworm", "hello"]);
    assert_eq!(
        original.code, 127,
        "the image it came from is unchanged: {original:?}"
    );
    ok(&env, &["rm", "-f", "web"]);
    env.finish();
}
