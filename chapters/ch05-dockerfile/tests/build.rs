//! Chapter 5 for real, as root: Dockerfiles built into images in a temp
//! store, run, rebuilt from the cache, and refused when they are wrong.
//! Every test checks it left no mount, cgroup or process behind.

#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{cache_hits, context, BIN};
use cratebox_testkit::{require_root, Outcome, TestEnv};

/// A context made of `files` (name, contents) in the test's state root.
fn inline(env: &TestEnv, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = env.state_root().join(format!("inline-{name}"));
    for (file, text) in files {
        let path = dir.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

fn build(env: &TestEnv, tag: &str, dir: &Path, extra: &[&str]) -> Outcome {
    let mut args = vec!["build", "-t", tag];
    args.extend_from_slice(extra);
    args.push(dir.to_str().unwrap());
    env.run(BIN, &args)
}

fn build_ok(env: &TestEnv, tag: &str, dir: &Path, extra: &[&str]) -> String {
    let out = build(env, tag, dir, extra);
    assert_eq!(out.code, 0, "{out:?}");
    out.stdout
}

/// Nothing of a failed build is left: no name, no work directory.
fn assert_nothing_half_made(env: &TestEnv, tag: &str) {
    let images = env.run_ok(BIN, &["images"]);
    assert!(!images.contains(tag), "{images}");
    let work = env.state_root().join("build");
    let left: Vec<_> = fs::read_dir(&work)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left in {}: {left:?}", work.display());
}

#[test]
fn the_notes_server_dockerfile_builds_and_runs_its_script() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let dir = context(&env, "notes-server");
    let out = build_ok(&env, "notes-server", &dir, &[]);
    assert!(out.contains("Step 9/9 : CMD [\"start.sh\"]"), "{out}");
    assert!(
        out.contains("Successfully tagged notes-server:latest"),
        "{out}"
    );
    assert_eq!(cache_hits(&out), 0, "{out}");

    // Running it runs start.sh, found by PATH, which runs the server the
    // tarball brought through the symlink RUN made.
    let ran = env.run_ok(BIN, &["run", "--rm", "notes-server"]);
    insta::assert_snapshot!(ran, @r"
    start.sh: config 2 settings
    server: hello from the recipe (ports 8080,7000)
    ");
    let inspect: serde_json::Value =
        serde_json::from_str(&env.run_ok(BIN, &["inspect", "notes-server"])).unwrap();
    let config = &inspect[0]["Config"];
    assert_eq!(inspect[0]["Author"], "A Learner <learner@example.org>");
    assert_eq!(config["Cmd"], serde_json::json!(["start.sh"]));
    assert_eq!(
        config["ExposedPorts"],
        serde_json::json!({"7000/tcp": {}, "8080/tcp": {}})
    );
    // FROM + 3 ADDs + RUN: the base's layer and four new ones.
    assert_eq!(inspect[0]["Layers"].as_array().unwrap().len(), 5);
    env.finish();
}

#[test]
fn rebuilds_use_the_cache_until_the_first_change() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let dir = context(&env, "notes-server");
    let first = build_ok(&env, "notes-server", &dir, &[]);
    let id = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("Successfully built"))
            .unwrap()
            .to_string()
    };

    // Unchanged: every step after FROM comes from the cache, same image.
    let again = build_ok(&env, "notes-server", &dir, &[]);
    assert_eq!(cache_hits(&again), 8, "{again}");
    assert_eq!(id(&first), id(&again), "same image id");

    // A new mtime is not a change.
    let conf = dir.join("server.conf");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&conf)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_eq!(cache_hits(&build_ok(&env, "notes-server", &dir, &[])), 8);

    // New contents are: steps 2 and 3 still come from the cache, the ADD
    // of server.conf and everything after it run again.
    fs::write(&conf, "ports=9090\ngreeting=\"changed\"\n").unwrap();
    let changed = build_ok(&env, "notes-server", &dir, &[]);
    assert_eq!(cache_hits(&changed), 2, "{changed}");
    assert!(
        changed.contains("Step 4/9 : ADD server.conf /etc/server/server.conf\n ---> "),
        "{changed}"
    );
    assert!(
        !changed.contains("Step 4/9 : ADD server.conf /etc/server/server.conf\n ---> Using cache"),
        "{changed}"
    );
    let ran = env.run_ok(BIN, &["run", "--rm", "notes-server"]);
    assert!(ran.contains("server: changed (ports 9090)"), "{ran}");

    // So is a new mode, with the same contents.
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(cache_hits(&build_ok(&env, "notes-server", &dir, &[])), 2);

    // --no-cache runs everything.
    let fresh = build_ok(&env, "notes-server", &dir, &["--no-cache"]);
    assert_eq!(cache_hits(&fresh), 0, "{fresh}");
    assert_ne!(id(&fresh), id(&first));
    env.finish();
}

#[test]
fn build_args_dockerignore_and_the_cache() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let dir = inline(
        &env,
        "args",
        &[
            (
                "Dockerfile",
                "FROM demo\nARG FLAVOUR=plain\nCOPY . /ctx/\nRUN echo \"$FLAVOUR\" > /flavour\nCMD [\"cat\", \"/flavour\"]\n",
            ),
            (".dockerignore", "*.log\n!keep.log\n"),
            ("app.txt", "app"),
            ("debug.log", "noise"),
            ("keep.log", "kept"),
        ],
    );
    let out = build_ok(&env, "args", &dir, &[]);
    assert_eq!(
        env.run_ok(BIN, &["run", "--rm", "args"]),
        "plain\n",
        "{out}"
    );
    let listed = env.run_ok(BIN, &["run", "--rm", "args", "ls", "-A", "/ctx"]);
    assert_eq!(listed, ".dockerignore\nDockerfile\napp.txt\nkeep.log\n");

    // An ignored file's change is no change at all: COPY, RUN and CMD
    // come from the cache (ARG makes no image, so it has no cache entry).
    fs::write(dir.join("debug.log"), "more noise").unwrap();
    assert_eq!(cache_hits(&build_ok(&env, "args", &dir, &[])), 3);

    // A different ARG value misses at the RUN that sees it, not before.
    let other = build_ok(&env, "args", &dir, &["--build-arg", "FLAVOUR=spicy"]);
    assert_eq!(cache_hits(&other), 1, "{other}");
    assert!(other.contains("COPY . /ctx/\n ---> Using cache"), "{other}");
    assert_eq!(env.run_ok(BIN, &["run", "--rm", "args"]), "spicy\n");

    // An argument no ARG declares is reported, not silently taken.
    let unused = build_ok(&env, "args", &dir, &["--build-arg", "NOPE=1"]);
    assert!(unused.contains("not consumed by any ARG: NOPE"), "{unused}");
    env.finish();
}

#[test]
fn run_uses_the_images_workdir_user_and_env() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let dir = inline(
        &env,
        "user",
        &[(
            "Dockerfile",
            "FROM demo\n\
             RUN echo 'app:x:1000:1000:app:/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1000:' >> /etc/group\n\
             ENV GREETING=\"hi there\"\n\
             WORKDIR /home/app\n\
             WORKDIR work\n\
             RUN chown -R app:app /home/app\n\
             USER app\n\
             RUN id -u > whoami && pwd >> whoami\n\
             ENTRYPOINT [\"/bin/sh\", \"-c\"]\n\
             CMD [\"echo $GREETING; id -u; pwd; cat whoami; echo $HOME\"]\n",
        )],
    );
    build_ok(&env, "user", &dir, &[]);
    let out = env.run_ok(BIN, &["run", "--rm", "user"]);
    // HOME comes from the user's passwd entry, as docker sets it.
    assert_eq!(
        out,
        "hi there\n1000\n/home/app/work\n1000\n/home/app/work\n/home/app\n"
    );
    // The default PATH is there although the image sets only GREETING.
    let path = env.run_ok(BIN, &["run", "--rm", "user", "echo $PATH"]);
    assert_eq!(
        path,
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
    );
    env.finish();
}

#[test]
fn add_unpacks_gzip_bzip2_and_xz_tars_and_copies_other_files() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let dir = context(&env, "parity-files");
    build_ok(&env, "files", &dir, &[]);
    // The image's ENTRYPOINT + CMD, as user app in WORKDIR; arguments
    // given to run replace only the CMD.
    let ran = env.run_ok(BIN, &["run", "--rm", "files"]);
    assert_eq!(ran, "run.sh: hello from /srv/app as 1000 with --verbose\n");
    let ran = env.run_ok(BIN, &["run", "--rm", "files", "-q"]);
    assert_eq!(ran, "run.sh: hello from /srv/app as 1000 with -q\n");
    // An image on top that empties the ENTRYPOINT, to look at the files.
    let look = inline(
        &env,
        "look",
        &[("Dockerfile", "FROM files\nUSER root\nENTRYPOINT []\nCMD [\"cat\", \"/opt/share/doc/README\", \"/opt/more/lib/libmore.txt\", \"/opt/plain/plain.txt\", \"/srv/notes.txt\"]\n")],
    );
    build_ok(&env, "look", &look, &[]);
    assert_eq!(
        env.run_ok(BIN, &["run", "--rm", "look"]),
        "doc\nlib\nplain\nnotes\n"
    );
    env.finish();
}

#[test]
fn add_downloads_a_url() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let (port, server) = serve_once("fetched over http\n");
    let dir = inline(
        &env,
        "url",
        &[(
            "Dockerfile",
            &format!("FROM demo\nADD http://127.0.0.1:{port}/files/hello.txt /downloads/\n"),
        )],
    );
    build_ok(&env, "url", &dir, &[]);
    server.join().unwrap();
    let out = env.run_ok(
        BIN,
        &["run", "--rm", "url", "ls", "-l", "/downloads/hello.txt"],
    );
    assert!(
        out.starts_with("-rw-------"),
        "downloads are 0600, as docker makes them: {out}"
    );
    assert_eq!(
        env.run_ok(BIN, &["run", "--rm", "url", "cat", "/downloads/hello.txt"]),
        "fetched over http\n"
    );
    env.finish();
}

/// A one-request HTTP server on loopback that answers `body`.
fn serve_once(body: &'static str) -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 1024];
        let _ = stream.read(&mut request).unwrap();
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
    });
    (port, server)
}

/// Build a context that must fail; return the error line.
fn must_fail(env: &TestEnv, name: &str, files: &[(&str, &str)]) -> String {
    let dir = inline(env, name, files);
    let out = build(env, name, &dir, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "one line: {out:?}");
    assert_nothing_half_made(env, name);
    out.stderr
        .trim_end()
        .replace(&env.state_root().display().to_string(), "<root>")
}

#[test]
fn bad_builds_stop_at_the_step_and_leave_nothing() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let secret = env.state_root().join("secret");
    fs::write(&secret, "outside").unwrap();
    let dockerfile = |text| vec![("Dockerfile", text)];
    let with_files = |text| vec![("Dockerfile", text), ("a", "a"), ("b", "b")];
    let cases = [
        ("malformed", dockerfile("FROM demo\nCOPY onlyone\n")),
        ("nofrom", dockerfile("RUN true\n")),
        ("unknown", dockerfile("FROM demo\nFETCH http://x\n")),
        ("missing", dockerfile("FROM nosuch:1.0\nRUN true\n")),
        ("outside", dockerfile("FROM demo\nCOPY ../secret /x\n")),
        ("absent", dockerfile("FROM demo\nCOPY nothere.txt /x\n")),
        (
            "falserun",
            dockerfile("FROM demo\nRUN echo partial > /f && false\n"),
        ),
        (
            "notfound",
            dockerfile("FROM demo\nRUN [\"no-such-program\"]\n"),
        ),
        ("several", with_files("FROM demo\nCOPY a b /file\n")),
        ("chown", with_files("FROM demo\nCOPY --chown=ghost a /a\n")),
        ("port", dockerfile("FROM demo\nARG P=99999\nEXPOSE $P\n")),
    ];
    let errors: Vec<String> = cases
        .iter()
        .map(|(name, files)| must_fail(&env, name, files))
        .collect();
    insta::assert_snapshot!(errors.join("\n"));
    env.finish();
}

#[test]
fn hostile_contexts_cannot_reach_outside() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    // A symlink in the context pointing at the host's /etc/passwd is
    // resolved inside the context, where there is no such file.
    let dir = inline(
        &env,
        "link",
        &[("Dockerfile", "FROM demo\nCOPY passwd /stolen\n")],
    );
    std::os::unix::fs::symlink("/etc/passwd", dir.join("passwd")).unwrap();
    let out = build(&env, "link", &dir, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("passwd: no such file in the build context"),
        "{out:?}"
    );

    // A symlink to a directory inside the context is followed, and its
    // own symlinks copied as symlinks, not as what they point at.
    let dir = inline(
        &env,
        "inner",
        &[
            ("Dockerfile", "FROM demo\nCOPY alias /copied\n"),
            ("real/file", "x"),
        ],
    );
    std::os::unix::fs::symlink("real", dir.join("alias")).unwrap();
    std::os::unix::fs::symlink("/etc/shadow", dir.join("real/shadow")).unwrap();
    build_ok(&env, "inner", &dir, &[]);
    let listed = env.run_ok(BIN, &["run", "--rm", "inner", "ls", "-l", "/copied"]);
    assert!(listed.contains("shadow -> /etc/shadow"), "{listed}");

    // An ADDed tar with a ../ entry is refused.
    let dir = inline(
        &env,
        "evil",
        &[("Dockerfile", "FROM demo\nADD evil.tar /opt/\n")],
    );
    let mut header = tar::Header::new_gnu();
    header.set_size(4);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    {
        let name = b"../../escaped";
        header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
    }
    header.set_cksum();
    let mut tar = tar::Builder::new(fs::File::create(dir.join("evil.tar")).unwrap());
    tar.append(&header, &b"evil"[..]).unwrap();
    tar.finish().unwrap();
    let out = build(&env, "evil", &dir, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("step 2/2 `ADD evil.tar /opt/`"),
        "{out:?}"
    );
    assert!(!env.state_root().join("escaped").exists());
    assert_nothing_half_made(&env, "evil");

    // A download whose name an earlier source of the same ADD made a
    // symlink to a host path replaces the link; it never writes through it.
    let target = env.state_root().join("host-file");
    let (port, server) = serve_once("downloaded\n");
    let dir = inline(
        &env,
        "through",
        &[(
            "Dockerfile",
            &format!("FROM demo\nADD dir http://127.0.0.1:{port}/pwn /d/\n"),
        )],
    );
    fs::create_dir(dir.join("dir")).unwrap();
    std::os::unix::fs::symlink(&target, dir.join("dir/pwn")).unwrap();
    build_ok(&env, "through", &dir, &[]);
    server.join().unwrap();
    assert!(!target.exists(), "the download went through the symlink");
    assert_eq!(
        env.run_ok(BIN, &["run", "--rm", "through", "cat", "/d/pwn"]),
        "downloaded\n"
    );

    // An image whose /etc/passwd is a pipe: --chown says the user is not
    // there, rather than waiting forever for the pipe.
    let dir = inline(
        &env,
        "fifo",
        &[
            (
                "Dockerfile",
                "FROM demo\nRUN rm /etc/passwd && mknod /etc/passwd p\nCOPY --chown=app f /f\n",
            ),
            ("f", "f"),
        ],
    );
    let out = build(&env, "fifo", &dir, &[]);
    assert!(out.stderr.contains("unable to find user app"), "{out:?}");
    env.finish();
}

/// The notes server's server.tar.gz is committed (so its context builds as it is),
/// and made from server/ with
/// `tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - server | gzip -n -9`.
/// It must hold exactly what server/ holds.
#[test]
fn the_notes_server_tarball_matches_its_directory() {
    let seed = common::fixtures().join("notes-server");
    let file = fs::File::open(seed.join("server.tar.gz")).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut in_tar = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        let mut contents = String::new();
        std::io::Read::read_to_string(&mut entry, &mut contents).unwrap();
        let executable = entry.header().mode().unwrap() & 0o111 != 0;
        in_tar.push(format!(
            "{} {executable} {contents:?}",
            path.trim_end_matches('/')
        ));
    }
    let mut on_disk = Vec::new();
    for (path, _) in common::listing(&seed) {
        if !(path == "server" || path.starts_with("server/")) {
            continue;
        }
        let full = seed.join(&path);
        let contents = fs::read_to_string(&full).unwrap_or_default();
        let executable = fs::metadata(&full).unwrap().permissions().mode() & 0o111 != 0;
        on_disk.push(format!("{path} {executable} {contents:?}"));
    }
    assert_eq!(
        in_tar, on_disk,
        "remake server.tar.gz from server/ (see this test's doc)"
    );
}

#[test]
fn scratch_shell_and_another_file_name() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    // From nothing: the whole demo image copied in from the store, then a
    // SHELL that shows which shell the shell forms went through.
    let dir = inline(
        &env,
        "scratch",
        &[(
            "build/scratch.Dockerfile",
            "FROM scratch\nCOPY --from=demo / /\nSHELL [\"/bin/echo\", \"via\"]\nRUN shell form\nCMD the default\n",
        )],
    );
    let file = dir.join("build/scratch.Dockerfile");
    let out = build_ok(&env, "scratch", &dir, &["-f", file.to_str().unwrap()]);
    assert!(
        out.contains("Step 4/5 : RUN shell form\nvia shell form\n ---> "),
        "{out}"
    );
    let inspect: serde_json::Value =
        serde_json::from_str(&env.run_ok(BIN, &["inspect", "scratch"])).unwrap();
    assert_eq!(
        inspect[0]["Config"]["Cmd"],
        serde_json::json!(["/bin/echo", "via", "the default"])
    );
    assert_eq!(inspect[0]["Layers"].as_array().unwrap().len(), 2);
    assert_eq!(
        env.run_ok(BIN, &["run", "--rm", "scratch"]),
        "via the default\n"
    );
    env.finish();
}

#[test]
fn rmi_keeps_the_build_cache_and_prune_empties_it() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let seed = context(&env, "notes-server");
    build_ok(&env, "notes-server", &seed, &[]);
    let other = inline(
        &env,
        "other",
        &[("Dockerfile", "FROM demo\nRUN echo other > /other\n")],
    );
    build_ok(&env, "other", &other, &[]);
    let blobs = || {
        fs::read_dir(env.state_root().join("oci/blobs/sha256"))
            .unwrap()
            .count()
    };

    // Removing one image leaves the cache of the other build whole...
    env.run_ok(BIN, &["rmi", "notes-server"]);
    env.run_ok(BIN, &["rmi", "other"]);
    assert_eq!(cache_hits(&build_ok(&env, "notes-server", &seed, &[])), 8);

    // ...until the cache is pruned: then only named images keep blobs.
    let before = blobs();
    let pruned = env.run_ok(BIN, &["prune"]);
    assert!(pruned.starts_with("Deleted build cache: "), "{pruned}");
    assert!(blobs() < before, "{pruned}");
    assert_eq!(cache_hits(&build_ok(&env, "notes-server", &seed, &[])), 0);
    assert_eq!(
        env.run_ok(BIN, &["run", "--rm", "notes-server"])
            .lines()
            .count(),
        2
    );
    env.finish();
}

/// The config of an image, from `inspect`.
fn config(env: &TestEnv, image: &str) -> serde_json::Value {
    let inspect: serde_json::Value =
        serde_json::from_str(&env.run_ok(BIN, &["inspect", image])).unwrap();
    inspect[0]["Config"].clone()
}

#[test]
fn the_cache_key_is_what_the_step_makes() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    // Two ENVs that would read the same if written back as plain text.
    let one = inline(
        &env,
        "env1",
        &[("Dockerfile", "FROM demo\nENV A='\"x' B=y\n")],
    );
    build_ok(&env, "env1", &one, &[]);
    let two = inline(
        &env,
        "env2",
        &[("Dockerfile", "FROM demo\nENV A='\"x B=y'\n")],
    );
    assert_eq!(cache_hits(&build_ok(&env, "env2", &two, &[])), 0);
    assert_eq!(config(&env, "env2")["Env"][1], "A=\"x B=y");

    // An ENTRYPOINT keeps a CMD set in its own stage, and resets one
    // inherited from the base, even when the two look alike to the cache.
    let kept = inline(
        &env,
        "kept",
        &[(
            "Dockerfile",
            "FROM demo AS a\nCMD [\"x\"]\nENTRYPOINT [\"e\"]\n",
        )],
    );
    build_ok(&env, "kept", &kept, &[]);
    assert_eq!(config(&env, "kept")["Cmd"], serde_json::json!(["x"]));
    let reset = inline(
        &env,
        "reset",
        &[(
            "Dockerfile",
            "FROM demo AS a\nCMD [\"x\"]\nFROM a\nENTRYPOINT [\"e\"]\n",
        )],
    );
    build_ok(&env, "reset", &reset, &[]);
    assert_eq!(config(&env, "reset")["Cmd"], serde_json::Value::Null);

    // A miss in one stage does not rebuild an unchanged later stage.
    let stages = inline(
        &env,
        "stages",
        &[
            (
                "Dockerfile",
                "FROM demo AS b\nCOPY changing /c\nFROM demo\nCOPY stable /s\n",
            ),
            ("changing", "1"),
            ("stable", "s"),
        ],
    );
    build_ok(&env, "stages", &stages, &[]);
    fs::write(stages.join("changing"), "2").unwrap();
    let again = build_ok(&env, "stages", &stages, &[]);
    assert!(
        again.contains("Step 4/4 : COPY stable /s\n ---> Using cache"),
        "{again}"
    );
    env.finish();
}

#[test]
fn files_land_where_docker_puts_them() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let dir = inline(
        &env,
        "land",
        &[
            (
                "Dockerfile",
                "FROM demo\n\
                 ADD a.tar /tmp/\n\
                 COPY f /../etc/landed\n\
                 COPY . /ctx/\n\
                 WORKDIR /../app\n\
                 CMD [\"ls\", \"-ld\", \"/tmp\", \"/etc/landed\", \"/ctx/target/keep\", \"/ctx/f\"]\n",
            ),
            ("f", "f"),
            (".dockerignore", "target\n!target/keep\n"),
            ("target/keep", "kept"),
            ("target/other", "left out"),
        ],
    );
    // One archive into /tmp, which must stay 1777; one holding a name that
    // a layer would read as a deletion, for later.
    for (name, entry) in [("a.tar", "hello.txt"), ("wh.tar", "data/.wh.keep")] {
        let mut tar = tar::Builder::new(fs::File::create(dir.join(name)).unwrap());
        let mut header = tar::Header::new_ustar();
        header.set_size(2);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, entry, &b"hi"[..]).unwrap();
        tar.finish().unwrap();
    }
    build_ok(&env, "land", &dir, &[]);
    assert_eq!(config(&env, "land")["WorkingDir"], "/app");
    let out = env.run_ok(BIN, &["run", "--rm", "land"]);
    let kinds: Vec<&str> = out
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    // ls sorts its arguments: /ctx/f, /ctx/target/keep, /etc/landed, /tmp.
    assert_eq!(
        kinds,
        ["-rw-r--r--", "-rw-r--r--", "-rw-r--r--", "drwxrwxrwt"],
        "{out}"
    );
    let other = env.run(BIN, &["run", "--rm", "land", "ls", "/ctx/target/other"]);
    assert_ne!(other.code, 0, "{other:?}");

    // A `.wh.` name cannot live in a layer, from a tarball or from a RUN:
    // both are refused rather than turned into deletions.
    fs::write(dir.join("Dockerfile"), "FROM demo\nADD wh.tar /opt/\n").unwrap();
    let out = build(&env, "wh", &dir, &[]);
    assert!(
        out.stderr.contains("\"data/.wh.keep\" is named .wh.*"),
        "{out:?}"
    );
    fs::write(dir.join("Dockerfile"), "FROM demo\nRUN touch /.wh.etc\n").unwrap();
    let out = build(&env, "wh", &dir, &[]);
    assert!(out.stderr.contains(".wh.etc is named .wh.*"), "{out:?}");
    assert_nothing_half_made(&env, "wh");
    env.finish();
}

#[test]
fn exit_codes_are_dockers() {
    cratebox_testkit::check_exit_codes(
        BIN,
        &["run", "--rm", "demo"],
        &["run", "--rm", "no-such-image", "true"],
    );
}

#[test]
fn run_takes_chapter_twos_isolation_options() {
    cratebox_testkit::check_run_isolation_options(BIN);
}

#[test]
fn onbuild_triggers_run_in_the_build_that_uses_the_image() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let base = inline(
        &env,
        "onbuild-base",
        &[(
            "Dockerfile",
            "FROM demo\n\
             ONBUILD RUN echo \"triggered in $STAGE\" > /triggered.txt\n\
             ONBUILD COPY app.txt /app/\n\
             CMD [\"cat\", \"/app/app.txt\"]\n",
        )],
    );
    build_ok(&env, "onbuild-base", &base, &[]);
    let stored = config(&env, "onbuild-base");
    assert_eq!(
        stored["OnBuild"],
        serde_json::json!([
            "RUN echo \"triggered in $STAGE\" > /triggered.txt",
            "COPY app.txt /app/"
        ]),
        "{stored}"
    );
    // A build FROM it runs the triggers first, with its own context, and
    // before its own steps (so the child's ENV is not set yet when they
    // run); its image does not carry them on.
    let child = inline(
        &env,
        "onbuild-child",
        &[
            ("Dockerfile", "FROM onbuild-base\nENV STAGE=child\n"),
            ("app.txt", "the child's file\n"),
        ],
    );
    let out = build_ok(&env, "onbuild-child", &child, &[]);
    assert!(out.contains("# Executing 2 build triggers"), "{out}");
    let ran = env.run_ok(
        BIN,
        &[
            "run",
            "--rm",
            "onbuild-child",
            "cat",
            "/triggered.txt",
            "/app/app.txt",
        ],
    );
    assert_eq!(ran, "triggered in \nthe child's file\n");
    assert!(config(&env, "onbuild-child").get("OnBuild").is_none());
    // A trigger that fails names itself, the base and the FROM step.
    let bare = inline(
        &env,
        "onbuild-bare",
        &[("Dockerfile", "FROM onbuild-base\n")],
    );
    let out = build(&env, "onbuild-bare", &bare, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("step 1/1 `FROM onbuild-base`")
            && out
                .stderr
                .contains("ONBUILD trigger `COPY app.txt /app/` of onbuild-base")
            && out
                .stderr
                .contains("app.txt: no such file in the build context"),
        "{out:?}"
    );
    assert_nothing_half_made(&env, "onbuild-bare");
    env.finish();
}

#[test]
fn chapter_three_limits_hold_in_run_steps_and_in_run() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    // A RUN step over build's memory limit is killed, and the build stops
    // there, saying why.
    let dir = inline(
        &env,
        "hog",
        &[("Dockerfile", "FROM demo\nRUN /usr/local/bin/memhog\n")],
    );
    let out = build(&env, "hog", &dir, &["-m", "32m"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("returned a non-zero code: 137 (killed: out of memory (limit 32MiB))"),
        "{out:?}"
    );
    assert_nothing_half_made(&env, "hog");

    // Within the limit the step builds; the image's containers then get
    // limits of their own from run.
    let dir = inline(
        &env,
        "fits",
        &[(
            "Dockerfile",
            "FROM demo\nRUN /usr/local/bin/memhog 8 > /made\nCMD [\"/usr/local/bin/memhog\"]\n",
        )],
    );
    build_ok(&env, "fits", &dir, &["-m", "64m"]);
    let out = env.run(BIN, &["run", "--rm", "fits", "cat", "/made"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "memhog: 8 MiB\nmemhog: holding 8 MiB, done\n"),
        "{out:?}"
    );
    let out = env.run(BIN, &["run", "--rm", "-m", "32m", "fits"]);
    assert_eq!(out.code, 137, "{out:?}");
    assert!(
        out.stderr.contains("killed: out of memory (limit 32MiB)"),
        "{out:?}"
    );
    env.finish();
}
