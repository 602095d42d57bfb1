//! Images built layer by layer with the image crate's API, then run by
//! `ch04-layers`: a stack far deeper than one page of mount options holds,
//! and images whose mount points are links that lead out of the root.
//! Every test checks it left no mount, cgroup or process behind.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use cratebox_image::build::{add_layer, store_layer_file};
use cratebox_image::reference::Reference;
use cratebox_image::store::{Image, Store};
use cratebox_testkit::{require_root, Outcome, TestEnv, PROBE_PATH};

const BIN: &str = env!("CARGO_BIN_EXE_ch04-layers");

/// One entry of a test layer.
enum Entry {
    Dir(&'static str),
    File(String, String),
    Symlink(&'static str, String),
}

/// Write a layer tar holding `entries`.
fn layer_tar(path: &Path, entries: &[Entry]) {
    let mut builder = tar::Builder::new(std::fs::File::create(path).unwrap());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        match entry {
            Entry::Dir(name) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder
                    .append_data(&mut header, name, std::io::empty())
                    .unwrap();
            }
            Entry::File(name, text) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(text.len() as u64);
                builder
                    .append_data(&mut header, name, text.as_bytes())
                    .unwrap();
            }
            Entry::Symlink(name, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder.append_link(&mut header, name, target).unwrap();
            }
        }
    }
    builder.finish().unwrap();
}

/// The demo image with one layer per entry list on top, named `name`.
fn image_on_demo(env: &TestEnv, name: &str, layers: Vec<Vec<Entry>>) -> Image {
    // The demo image is made the first time it is named.
    env.run_ok(BIN, &["inspect", "demo"]);
    let store = Store::open(&env.state_root().join("oci")).unwrap();
    let reference: Reference = name.parse().unwrap();
    let mut image = store.resolve(&"demo".parse().unwrap()).unwrap();
    let tar = env.state_root().join("layer.tar");
    for (n, entries) in layers.iter().enumerate() {
        layer_tar(&tar, entries);
        let layer = store_layer_file(&store, &tar).unwrap();
        image = add_layer(
            &store,
            Some(&image),
            &layer,
            &format!("layer {n}"),
            &reference,
        )
        .unwrap();
    }
    std::fs::remove_file(&tar).unwrap();
    image
}

#[test]
fn an_image_of_128_layers_runs() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    // The demo's one layer, then 127 more: each adds /layers/N; layer 2
    // adds /layers/gone and layer 64 deletes it again with a whiteout.
    let layers = (1..=127)
        .map(|n| {
            let mut entries = vec![
                Entry::Dir("layers"),
                Entry::File(format!("layers/{n}"), format!("layer {n}\n")),
            ];
            match n {
                2 => entries.push(Entry::File("layers/gone".into(), "here\n".into())),
                64 => entries.push(Entry::File("layers/.wh.gone".into(), String::new())),
                _ => {}
            }
            entries
        })
        .collect();
    let image = image_on_demo(&env, "deep:v1", layers);
    assert_eq!(image.layers().unwrap().len(), 128);
    let script =
        "cat /etc/hostname /layers/1 /layers/127; ls /layers/gone 2>/dev/null || echo gone";
    let out = env.run(BIN, &["run", "--rm", "deep:v1", "/bin/sh", "-c", script]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout, "cratebox\nlayer 1\nlayer 127\ngone\n",
        "{out:?}"
    );
    env.finish();
}

/// A path on the host that no container may create.
fn host_decoy(case: &str) -> PathBuf {
    PathBuf::from(format!("/tmp/cratebox-decoy-{case}-{}", std::process::id()))
}

#[test]
fn symlinked_mount_points_in_an_image_stay_inside_its_root() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let decoy = host_decoy("image-proc");
    // (name, link in the image, its target, what the probe must show
    // mounted, or else the path the one-line refusal names)
    let cases: [(&str, &str, String, Result<String, &str>); 4] = [
        (
            "absolute",
            "proc",
            decoy.display().to_string(),
            Ok(format!("  {} proc ", decoy.display())),
        ),
        (
            "dotdot",
            "proc",
            format!("../../../../../../..{}", decoy.display()),
            Ok(format!("  {} proc ", decoy.display())),
        ),
        (
            "dev-to-etc",
            "dev",
            "/etc".into(),
            Ok("  /etc/shm tmpfs ".into()),
        ),
        ("to-root", "sys", "../../..".into(), Err("/sys")),
    ];
    let mut failures = Vec::new();
    for (name, path, target, expect) in cases {
        let env = TestEnv::new();
        let reference = format!("hostile:{name}");
        image_on_demo(
            &env,
            &reference,
            vec![vec![Entry::Symlink(path, target.clone())]],
        );
        let out: Outcome = env.run(BIN, &["run", "--rm", &reference, PROBE_PATH]);
        if decoy.symlink_metadata().is_ok() {
            let _ = std::fs::remove_dir(&decoy);
            failures.push(format!("{name}: made {} on the host", decoy.display()));
        }
        let as_expected = match &expect {
            Ok(line) => out.code == 0 && out.stdout.contains(line.as_str()),
            Err(named) => {
                out.code == 125 && out.stderr.lines().count() == 1 && out.stderr.contains(named)
            }
        };
        if !as_expected {
            failures.push(format!(
                "{name} ({path} -> {target}): expected {expect:?}, got {out:?}"
            ));
        }
        env.finish();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
