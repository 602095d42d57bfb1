//! The store under attack and under load, through `ch04-layers`: hostile
//! tars and archives are refused with nothing of them kept; concurrent
//! imports and commits never corrupt the store; a killed import leaves no
//! half image.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use cratebox_testkit::{require_root, Outcome, TestEnv};

const BIN: &str = env!("CARGO_BIN_EXE_ch04-layers");

/// Files in the store's blob directory (temp files included).
fn blob_count(env: &TestEnv) -> usize {
    std::fs::read_dir(env.state_root().join("oci/blobs/sha256"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// A tar with one regular file whose name is written into the header raw,
/// so that names the tar crate's safe API refuses (`../x`) get in.
fn tar_with_raw_name(path: &Path, name: &str) {
    let mut header = tar::Header::new_old();
    let bytes = name.as_bytes();
    header.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
    header.set_size(5);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let mut file = std::fs::File::create(path).unwrap();
    file.write_all(header.as_bytes()).unwrap();
    file.write_all(b"evil\n").unwrap();
    file.write_all(&[0u8; 512 - 5]).unwrap();
    file.write_all(&[0u8; 1024]).unwrap();
}

#[test]
fn hostile_import_is_refused_and_leaves_nothing() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    env.run_ok(BIN, &["images"]);
    let before = blob_count(&env);
    let tar = env.state_root().join("evil.tar");
    tar_with_raw_name(&tar, "../../escaped-by-import");
    let out = env.run(BIN, &["import", tar.to_str().unwrap(), "evil"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(
        out.stderr.contains("../../escaped-by-import"),
        "the error names the entry: {out:?}"
    );
    assert_eq!(blob_count(&env), before, "nothing of it reached the store");
    assert!(!env.run_ok(BIN, &["images"]).contains("evil"));
    assert!(!env.state_root().join("escaped-by-import").exists());
    assert!(!Path::new("/escaped-by-import").exists());
    env.finish();
}

/// Save the demo image and return the archive's entries as (name, bytes).
fn saved_demo(env: &TestEnv) -> Vec<(String, Vec<u8>)> {
    let archive = env.state_root().join("demo.tar");
    env.run_ok(BIN, &["save", "-o", archive.to_str().unwrap(), "demo"]);
    let mut entries = Vec::new();
    let mut tar = tar::Archive::new(std::fs::File::open(&archive).unwrap());
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        entries.push((name, bytes));
    }
    entries
}

fn write_archive(path: &PathBuf, entries: &[(String, Vec<u8>)]) {
    let mut builder = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, &bytes[..]).unwrap();
    }
    builder.finish().unwrap();
}

/// The biggest blob in an archive: the layer.
fn layer_index(entries: &[(String, Vec<u8>)]) -> usize {
    (0..entries.len())
        .max_by_key(|i| entries[*i].1.len())
        .unwrap()
}

#[test]
fn an_archive_blob_that_does_not_match_its_digest_is_refused() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let mut entries = saved_demo(&env);
    env.run_ok(BIN, &["rmi", "demo"]);
    let before = blob_count(&env);
    let layer = layer_index(&entries);
    let last = entries[layer].1.len() - 1;
    entries[layer].1[last] ^= 0xff;
    let archive = env.state_root().join("tampered.tar");
    write_archive(&archive, &entries);
    let out = env.run(BIN, &["load", "-i", archive.to_str().unwrap()]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(out.stderr.contains("does not match its digest"), "{out:?}");
    assert!(
        out.stderr
            .contains(entries[layer].0.trim_start_matches("blobs/sha256/")),
        "names the blob: {out:?}"
    );
    assert_eq!(blob_count(&env), before, "nothing of it was kept");
    assert!(!env.run_ok(BIN, &["images"]).contains("demo"));
    env.finish();
}

#[test]
fn a_manifest_naming_a_missing_blob_is_refused() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    let mut entries = saved_demo(&env);
    env.run_ok(BIN, &["rmi", "demo"]);
    let before = blob_count(&env);
    let (missing, _) = entries.remove(layer_index(&entries));
    let archive = env.state_root().join("incomplete.tar");
    write_archive(&archive, &entries);
    let out = env.run(BIN, &["load", "-i", archive.to_str().unwrap()]);
    assert_eq!(out.code, 125, "{out:?}");
    let hex = missing.trim_start_matches("blobs/sha256/");
    assert!(
        out.stderr
            .contains(&format!("blob sha256:{hex} is missing")),
        "{out:?}"
    );
    assert_eq!(blob_count(&env), before);
    env.finish();
}

#[test]
fn a_truncated_gzip_layer_is_refused_at_import() {
    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    env.run_ok(BIN, &["images"]);
    let before = blob_count(&env);
    // The demo's rootfs, gzipped, then cut in half.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut builder = tar::Builder::new(&mut gz);
        builder.follow_symlinks(false);
        builder.append_dir_all(".", env.rootfs()).unwrap();
        builder.finish().unwrap();
    }
    let bytes = gz.finish().unwrap();
    let cut = env.state_root().join("cut.tar.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = env.run(BIN, &["import", cut.to_str().unwrap(), "cut"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(out.stderr.contains("corrupt or truncated"), "{out:?}");
    assert_eq!(blob_count(&env), before);
    env.finish();
}

#[test]
fn concurrent_imports_and_commits_keep_the_store_whole() {
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
            "c1",
            "demo",
            "/bin/sh",
            "-c",
            "echo one > /one",
        ],
    );
    env.run_ok(
        BIN,
        &[
            "run",
            "--name",
            "c2",
            "demo",
            "/bin/sh",
            "-c",
            "echo two > /two",
        ],
    );
    let tar = env.rootfs_tar().to_str().unwrap().to_string();
    let jobs: Vec<Vec<String>> = (0..4)
        .map(|i| {
            ["import", &tar, &format!("imported:{i}")]
                .map(String::from)
                .to_vec()
        })
        .chain((0..4).map(|i| {
            [
                "commit",
                if i % 2 == 0 { "c1" } else { "c2" },
                &format!("committed:{i}"),
            ]
            .map(String::from)
            .to_vec()
        }))
        .collect();
    let children: Vec<_> = jobs
        .iter()
        .map(|args| {
            env.command(BIN)
                .args(args)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let images = env.run_ok(BIN, &["images"]);
    assert_eq!(
        images
            .lines()
            .filter(|l| l.starts_with("imported "))
            .count(),
        4,
        "{images}"
    );
    assert_eq!(
        images
            .lines()
            .filter(|l| l.starts_with("committed "))
            .count(),
        4,
        "{images}"
    );
    // Every image still runs: its blobs are whole and its layers unpack.
    assert_eq!(
        env.run_ok(BIN, &["run", "--rm", "committed:2", "cat", "/one"]),
        "one\n"
    );
    assert_eq!(
        env.run_ok(BIN, &["run", "--rm", "committed:3", "cat", "/two"]),
        "two\n"
    );
    assert_eq!(
        env.run_ok(BIN, &["run", "--rm", "imported:3", "cat", "/etc/hostname"]),
        "cratebox\n"
    );
    env.run_ok(BIN, &["rm", "c1", "c2"]);
    env.finish();
}

/// Whether process `pid` has a temp file in `dir` with something in it: the
/// store writes every blob to `.tmp-PID-N` first, then renames it to its
/// digest.
fn writing_temp_file(dir: &Path, pid: u32) -> bool {
    let prefix = format!(".tmp-{pid}-");
    std::fs::read_dir(dir).unwrap().flatten().any(|entry| {
        entry.file_name().to_string_lossy().starts_with(&prefix)
            && entry.metadata().map(|m| m.len() > 0).unwrap_or(false)
    })
}

/// Blobs whose content is not what their name says: a half-written file in
/// plain sight. Temp files are not blobs and are skipped.
fn blobs_not_matching_their_names(dir: &Path) -> Vec<String> {
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".tmp-") {
            continue;
        }
        // sha256sum rather than hashing here: the test binary is not
        // optimised, and the biggest blob is 128 MiB.
        let sum = std::process::Command::new("sha256sum")
            .arg(entry.path())
            .output()
            .unwrap();
        assert!(sum.status.success(), "sha256sum {name}: {sum:?}");
        let sum = String::from_utf8_lossy(&sum.stdout);
        if sum.split_whitespace().next() != Some(name.as_str()) {
            wrong.push(name);
        }
    }
    wrong
}

#[test]
fn an_import_killed_half_way_leaves_no_image() {
    use std::os::unix::process::ExitStatusExt;
    use std::time::{Duration, Instant};

    if !require_root() {
        return;
    }
    let _turn = cratebox_testkit::one_at_a_time();
    let env = TestEnv::new();
    env.run_ok(BIN, &["images"]);
    let blobs = env.state_root().join("oci/blobs/sha256");
    // A tar big enough to be caught while it is copied: 128 files of 1 MiB,
    // with every header field an importer reads (an empty uid field makes
    // the tar one that no import accepts, killed or not).
    let tar = env.state_root().join("big.tar");
    {
        let mut builder = tar::Builder::new(std::fs::File::create(&tar).unwrap());
        let block = vec![7u8; 1 << 20];
        for i in 0..128 {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(block.len() as u64);
            header.set_mode(0o644);
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(0);
            header.set_cksum();
            builder
                .append_data(&mut header, format!("data/{i}"), &block[..])
                .unwrap();
        }
        builder.finish().unwrap();
    }
    let tar = tar.to_str().unwrap();
    let mut child = env
        .command(BIN)
        .args(["import", tar, "half"])
        .spawn()
        .unwrap();
    let pid = child.id();

    // Kill it only once it is writing the layer into the store: killed any
    // earlier, while it still reads the tar, it would prove nothing.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !writing_temp_file(&blobs, pid) {
        let ended = child.try_wait().unwrap();
        assert!(
            ended.is_none(),
            "the import ended ({ended:?}) before it was seen writing its layer"
        );
        assert!(
            Instant::now() < deadline,
            "the import never wrote its layer"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(libc::SIGKILL),
        "the import finished before the kill: {status:?}"
    );

    // No image, and nothing half-written where a reader looks: every blob
    // is whole, and what the import left is only its own temp file.
    let out: Outcome = env.run(BIN, &["images"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains("half"), "{out:?}");
    assert_eq!(blobs_not_matching_their_names(&blobs), Vec::<String>::new());
    let killed_prefix = format!(".tmp-{pid}-");
    for entry in std::fs::read_dir(&blobs).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            !name.starts_with(".tmp-") || name.starts_with(&killed_prefix),
            "a temp file not of the killed import: {name}"
        );
    }

    // The store is still usable: the same import now succeeds, whole.
    env.run_ok(BIN, &["import", tar, "half"]);
    let images = env.run_ok(BIN, &["images"]);
    assert!(images.lines().any(|l| l.starts_with("half ")), "{images}");
    assert_eq!(blobs_not_matching_their_names(&blobs), Vec::<String>::new());
    assert_eq!(
        env.run_ok(BIN, &["run", "--rm", "demo", "cat", "/etc/hostname"]),
        "cratebox\n"
    );
    env.finish();
}
