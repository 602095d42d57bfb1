//! Chapter 4 run for real: images in an OCI store, containers as overlay
//! layers, commit, save and load, as root. Every test checks it left no
//! mount, cgroup or process behind.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use cratebox_demo_image::SourceChoice;
use cratebox_testkit::{require_root, run_tool, tool, Outcome, TestEnv};

const BIN: &str = env!("CARGO_BIN_EXE_ch04-layers");

fn ch04(env: &TestEnv, args: &[&str]) -> Outcome {
    env.run(BIN, args)
}

fn layer_dirs(env: &TestEnv) -> usize {
    std::fs::read_dir(env.state_root().join("layers"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn import_then_run_and_list() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let tar = env.rootfs_tar();
    let id = env.run_ok(BIN, &["import", tar.to_str().unwrap(), "base:v1"]);
    assert!(id.starts_with("sha256:"), "{id}");
    assert!(env.run_ok(BIN, &["images"]).contains("base"));
    let out = env.run_ok(BIN, &["run", "--rm", "base:v1", "cat", "/etc/os-release"]);
    assert!(out.contains("cratebox demo image"), "{out}");
    env.finish();
}

#[test]
fn containers_see_only_their_own_changes_and_the_image_stays() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    env.run_ok(
        BIN,
        &[
            "run",
            "--name",
            "a",
            "demo",
            "/bin/sh",
            "-c",
            "echo mine > /tmp/a.txt; rm /etc/hostname",
        ],
    );
    let b = ch04(&env, &["run", "--name", "b", "demo", "cat", "/tmp/a.txt"]);
    assert_ne!(b.code, 0, "container b saw a's file: {b:?}");
    assert_eq!(
        env.run_ok(BIN, &["run", "--rm", "demo", "cat", "/etc/hostname"]),
        "cratebox\n"
    );
    // a's change is in a's writable layer, nowhere else.
    let ps = env.run_ok(BIN, &["ps", "-a"]);
    assert!(ps.contains(" a\n") && ps.contains(" b\n"), "{ps}");
    env.run_ok(BIN, &["rm", "a", "b"]);
    assert!(!env.run_ok(BIN, &["ps", "-a"]).contains(" a\n"));
    env.finish();
}

#[test]
fn commit_adds_one_layer_on_top_of_the_base() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let script = "mkdir -p /srv && echo hello > /srv/index.html && rm /etc/hostname";
    env.run_ok(
        BIN,
        &["run", "--name", "web", "demo", "/bin/sh", "-c", script],
    );
    insta::assert_snapshot!(env.run_ok(BIN, &["diff", "web"]), @r"
    C /etc
    D /etc/hostname
    A /srv
    A /srv/index.html
    ");
    env.run_ok(BIN, &["commit", "web", "site:v1"]);
    // The new image is the base's layer plus one: the base's blob is shared.
    let base: serde_json::Value =
        serde_json::from_str(&env.run_ok(BIN, &["inspect", "demo"])).unwrap();
    let site: serde_json::Value =
        serde_json::from_str(&env.run_ok(BIN, &["inspect", "site:v1"])).unwrap();
    let base_layers = base[0]["Layers"].as_array().unwrap();
    let site_layers = site[0]["Layers"].as_array().unwrap();
    assert_eq!(site_layers.len(), base_layers.len() + 1);
    assert_eq!(site_layers[0], base_layers[0]);
    assert!(env
        .run_ok(BIN, &["history", "site:v1"])
        .contains("commit web"));
    // Two layer directories on disk: the base's, shared, and the new one.
    let out = env.run_ok(
        BIN,
        &[
            "run",
            "--rm",
            "site:v1",
            "/bin/sh",
            "-c",
            "cat /srv/index.html; ls /etc/hostname || echo gone",
        ],
    );
    assert_eq!(out, "hello\ngone\n");
    assert_eq!(layer_dirs(&env), 2);
    env.run_ok(BIN, &["rm", "web"]);
    env.finish();
}

#[test]
fn save_rmi_load_round_trip() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    env.run_ok(
        BIN,
        &[
            "run",
            "--name",
            "c",
            "demo",
            "/bin/sh",
            "-c",
            "echo saved > /saved",
        ],
    );
    env.run_ok(BIN, &["commit", "c", "keep:v2"]);
    let archive = env.state_root().join("keep.tar");
    env.run_ok(BIN, &["save", "-o", archive.to_str().unwrap(), "keep:v2"]);
    // Refused while a container uses the image it came from.
    let refused = ch04(&env, &["rmi", "demo"]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("is used by container c"),
        "{refused:?}"
    );
    env.run_ok(BIN, &["rm", "c"]);
    env.run_ok(BIN, &["rmi", "keep:v2"]);
    env.run_ok(BIN, &["rmi", "demo"]);
    assert_eq!(layer_dirs(&env), 0, "unused layers are collected");
    assert_eq!(
        env.run_ok(BIN, &["load", "-i", archive.to_str().unwrap()]),
        "Loaded image: keep:v2\n"
    );
    assert_eq!(
        env.run_ok(BIN, &["run", "--rm", "keep:v2", "cat", "/saved"]),
        "saved\n"
    );
    env.finish();
}

#[test]
fn bad_names_and_missing_images_are_clear_errors() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let out = ch04(&env, &["run", "--rm", "nosuch:v9", "true"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(out.stderr.contains("no image nosuch:v9"), "{out:?}");
    let out = ch04(&env, &["import", "/nonexistent.tar", "Bad_Name"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(
        out.stderr.contains("invalid image name \"Bad_Name\""),
        "{out:?}"
    );
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    env.finish();
}

#[test]
fn skopeo_and_umoci_read_what_we_save() {
    if !require_root() {
        return;
    }
    let (Some(skopeo), Some(umoci)) = (tool("skopeo"), tool("umoci")) else {
        return;
    };
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let archive = env.state_root().join("demo.tar");
    env.run_ok(BIN, &["save", "-o", archive.to_str().unwrap(), "demo"]);
    let inspected: serde_json::Value = serde_json::from_str(&run_tool(
        &skopeo,
        &["inspect", &format!("oci-archive:{}", archive.display())],
    ))
    .unwrap();
    assert_eq!(inspected["Os"], "linux");
    assert_eq!(inspected["Layers"].as_array().unwrap().len(), 1);
    // umoci reads a layout directory: unpack the archive into one first.
    let layout = env.state_root().join("layout");
    std::fs::create_dir(&layout).unwrap();
    tar::Archive::new(std::fs::File::open(&archive).unwrap())
        .unpack(&layout)
        .unwrap();
    let bundle = env.state_root().join("bundle");
    run_tool(
        &umoci,
        &[
            "unpack",
            "--image",
            &format!("{}:latest", layout.display()),
            bundle.to_str().unwrap(),
        ],
    );
    assert!(bundle.join("rootfs/usr/local/bin/probe").is_file());
    env.finish();
}

#[test]
fn an_image_made_by_umoci_and_skopeo_loads_and_runs() {
    if !require_root() {
        return;
    }
    let (Some(skopeo), Some(umoci)) = (tool("skopeo"), tool("umoci")) else {
        return;
    };
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let layout = env.state_root().join("umoci-layout");
    let layout_tag = format!("{}:v1", layout.display());
    let bundle = env.state_root().join("umoci-bundle");
    run_tool(&umoci, &["init", "--layout", layout.to_str().unwrap()]);
    run_tool(&umoci, &["new", "--image", &layout_tag]);
    run_tool(
        &umoci,
        &["unpack", "--image", &layout_tag, bundle.to_str().unwrap()],
    );
    // Give the empty image a static busybox and nothing else.
    let bin = bundle.join("rootfs/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(env.rootfs().join("bin/busybox"), bin.join("busybox")).unwrap();
    run_tool(
        &umoci,
        &["repack", "--image", &layout_tag, bundle.to_str().unwrap()],
    );
    run_tool(
        &umoci,
        &[
            "config",
            "--image",
            &layout_tag,
            "--config.cmd",
            "/bin/busybox",
        ],
    );
    let archive = env.state_root().join("fromumoci.tar");
    run_tool(
        &skopeo,
        &[
            "copy",
            &format!("oci:{layout_tag}"),
            &format!("oci-archive:{}:other:v1", archive.display()),
        ],
    );
    assert_eq!(
        env.run_ok(BIN, &["load", "-i", archive.to_str().unwrap()]),
        "Loaded image: other:v1\n"
    );
    assert_eq!(
        env.run_ok(
            BIN,
            &[
                "run",
                "--rm",
                "other:v1",
                "/bin/busybox",
                "echo",
                "hi from umoci"
            ]
        ),
        "hi from umoci\n"
    );
    env.finish();
}

#[test]
fn two_containers_of_one_image_at_once_each_see_their_own_changes() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    env.run_ok(BIN, &["images"]);
    env.run_ok(BIN, &["run", "--rm", "demo", "true"]);
    // Both run at the same time: each writes its file, waits, then looks for the other's.
    let script = |me: &str, other: &str| {
        format!("echo {me} > /tmp/{me}; sleep 0.5; cat /tmp/{me}; test -e /tmp/{other} && echo saw-{other} || true")
    };
    let start = |me: &str, other: &str| {
        env.command(BIN)
            .args(["run", "--rm", "demo", "/bin/sh", "-c", &script(me, other)])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start("a", "b"), start("b", "a"));
    let (a, b) = (
        Outcome::from(a.wait_with_output().unwrap()),
        Outcome::from(b.wait_with_output().unwrap()),
    );
    assert_eq!((a.code, a.stdout.as_str()), (0, "a\n"), "{a:?}");
    assert_eq!((b.code, b.stdout.as_str()), (0, "b\n"), "{b:?}");
    env.finish();
}

#[test]
fn chapter_three_limits_still_apply() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let out = ch04(
        &env,
        &["run", "--rm", "-m", "32m", "demo", "/usr/local/bin/memhog"],
    );
    assert_eq!(out.code, 137, "{out:?}");
    assert!(
        out.stderr.contains("killed: out of memory (limit 32MiB)"),
        "{out:?}"
    );
    let out = ch04(
        &env,
        &["run", "--rm", "--hostname", "web", "demo", "hostname"],
    );
    assert_eq!(out.stdout, "web\n", "{out:?}");
    env.finish();
}

#[test]
fn exit_codes_are_dockers() {
    cratebox_testkit::check_exit_codes(
        env!("CARGO_BIN_EXE_ch04-layers"),
        &["run", "--rm", "demo"],
        &["run", "--rm", "no-such-image", "true"],
    );
}

#[test]
fn ps_records_the_exit_code_of_a_command_that_could_not_start() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    assert_eq!(
        ch04(&env, &["run", "--name", "lost", "demo", "no-such-command"]).code,
        127
    );
    assert_eq!(
        ch04(&env, &["run", "--name", "data", "demo", "/etc/passwd"]).code,
        126
    );
    let ps = env.run_ok(BIN, &["ps", "-a"]);
    let status = |name: &str| {
        ps.lines()
            .find(|l| l.ends_with(name))
            .unwrap_or_else(|| panic!("{name} missing from ps -a: {ps}"))
            .to_string()
    };
    assert!(status("lost").contains("Exited (127)"), "{ps}");
    assert!(status("data").contains("Exited (126)"), "{ps}");
    env.run_ok(BIN, &["rm", "lost", "data"]);
    env.finish();
}

#[test]
fn ps_cuts_a_multibyte_command_without_panicking() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    // `"echo aaaaaaaaaaaaaaa€`: the euro sign spans bytes 21 to 23, across
    // the column's old byte cut at 22.
    for (name, word) in [
        ("euro", "aaaaaaaaaaaaaaa€€€"),
        ("wide", "日本語のテキストです"),
    ] {
        env.run_ok(BIN, &["run", "--name", name, "demo", "echo", word]);
    }
    let ps = ch04(&env, &["ps", "-a"]);
    assert_eq!(ps.code, 0, "{ps:?}");
    let names_at: Vec<usize> = ps
        .stdout
        .lines()
        .map(|line| {
            let cut = line.rfind("  ").unwrap();
            unicode_cells(&line[..cut])
        })
        .collect();
    assert!(
        names_at.windows(2).all(|w| w[0] == w[1]),
        "the NAMES column moves: {}",
        ps.stdout
    );
    env.run_ok(BIN, &["rm", "euro", "wide"]);
    env.finish();
}

/// Terminal cells: two for the CJK characters used above, one otherwise.
fn unicode_cells(text: &str) -> usize {
    text.chars()
        .map(|c| {
            if ('\u{3000}'..='\u{9fff}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}

#[test]
fn run_takes_chapter_twos_isolation_options() {
    cratebox_testkit::check_run_isolation_options(BIN);
}

#[test]
fn the_demo_image_follows_a_rebuilt_demo_root() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    // First built from the host's programs, as on a machine without busybox.
    let env = TestEnv::with_demo_source(SourceChoice::Host);
    let pretty = |out: String| {
        out.lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .unwrap_or_default()
            .to_string()
    };
    let first = env.run_ok(BIN, &["run", "--rm", "demo", "cat", "/etc/os-release"]);
    assert!(pretty(first).contains("host binaries"));
    env.run_ok(BIN, &["run", "--name", "old", "demo", "true"]);
    // Then busybox is asked for (as `auto` does once it is installed): the
    // root file system is rebuilt, and demo:latest must follow it.
    let mut command = env.command(BIN);
    command
        .env(cratebox_demo_image::SOURCE_ENV, "busybox")
        .args(["run", "--rm", "demo", "cat", "/etc/os-release"]);
    let out: cratebox_testkit::Outcome = command.output().unwrap().into();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(pretty(out.stdout.clone()).contains("busybox"), "{out:?}");
    // The container made from the old import still has its image.
    let diff = ch04(&env, &["diff", "old"]);
    assert_eq!(diff.code, 0, "{diff:?}");
    env.run_ok(BIN, &["rm", "old"]);
    env.finish();
}
