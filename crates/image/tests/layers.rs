//! Layers through the real kernel: unpack layer tars, mount them with
//! overlayfs, and check the merged view is exactly what the changeset
//! model predicts; then change files in a container's view and check that
//! `changes` reports them and `write_layer` captures them as a layer.
//!
//! Needs root (mknod, trusted.* xattrs, mount).

// Test setup fails loudly: an unwrap here is an assertion.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use cratebox_image::changeset::{Kind, LayerEntry as E, Tree};
use cratebox_image::diff::{changes, write_layer};
use cratebox_image::digest::Digest;
use cratebox_image::overlay::overlay_options;
use cratebox_image::unpack::unpack_layer;
use cratebox_testkit::{require_root, LeakCheck};
use nix::mount::{mount, umount2, MntFlags, MsFlags};

/// The base layer: a little of everything the upper layers will change.
fn base_layer() -> Vec<E> {
    vec![
        E::dir("etc"),
        E::file("etc/hostname", "base"),
        E::file("etc/motd", "welcome"),
        E::file("etc/os-release", "cratebox 1"),
        E::dir("opt"),
        E::dir("opt/tool"),
        E::file("opt/tool/run", "v1").mode(0o755),
        E::dir("srv"),
        E::dir("srv/data"),
        E::file("srv/data/a", "a"),
        E::file("srv/config", "flat"),
        E::dir("var"),
        E::dir("var/cache"),
        E::file("var/cache/one", "1"),
        E::dir("var/cache/sub"),
        E::file("var/cache/sub/two", "2"),
        E::dir("www"),
        E::file("www/index.html", "old"),
        E::file("www/old.css", "old"),
    ]
}

/// A layer with every rule in it: deletions, opaque directories with the
/// marker before and after their entries, replacements both ways, links.
fn rules_layer() -> Vec<E> {
    vec![
        E::dir("etc"),
        E::whiteout("etc/motd"),
        E::whiteout("opt/tool"),
        E::dir("srv"),
        E::file("srv/data", "a file now"),
        E::dir("srv/config").mode(0o700),
        E::file("srv/config/main", "nested"),
        E::dir("var"),
        E::dir("var/cache"),
        E::opaque("var/cache"),
        E::file("var/cache/fresh", "new"),
        E::dir("www"),
        E::file("www/index.html", "new"),
        E::opaque("www"),
        E::dir("bin"),
        E::file("bin/tool", "tool").mode(0o755),
        E::hardlink("bin/tool-link", "bin/tool"),
        E::symlink("bin/sh", "tool"),
    ]
}

#[test]
fn overlay_merges_layers_as_the_changeset_model_predicts() {
    if !require_root() {
        return;
    }
    let _serial = cratebox_testkit::one_at_a_time();
    let leaks = LeakCheck::take();
    let temp = tempfile::tempdir().unwrap();
    {
        let (base, rules) = (base_layer(), rules_layer());
        let lowers = [temp.path().join("base"), temp.path().join("rules")];
        unpack_checked(&tar_of(&base), &lowers[0]);
        unpack_checked(&gzip(&tar_of(&rules)), &lowers[1]);
        insta::assert_snapshot!("rules_layer_as_overlayfs_reads_it", render_dir(&lowers[1]));

        let view = Overlay::mount(temp.path(), "view", &lowers);
        let model = Tree::from_layers(&[&base, &rules]).unwrap();
        assert_eq!(render_dir(&view.merged), model.render());
        insta::assert_snapshot!("merged", model.render());
    }
    leaks.assert_nothing_new(temp.path());
    temp.close().unwrap();
}

#[test]
fn container_changes_become_a_layer_that_reproduces_them() {
    if !require_root() {
        return;
    }
    let _serial = cratebox_testkit::one_at_a_time();
    let leaks = LeakCheck::take();
    let temp = tempfile::tempdir().unwrap();
    {
        let mut lowers = vec![temp.path().join("base"), temp.path().join("rules")];
        unpack_checked(&tar_of(&base_layer()), &lowers[0]);
        unpack_checked(&tar_of(&rules_layer()), &lowers[1]);

        // What a container might do.
        let container = Overlay::mount(temp.path(), "container", &lowers);
        let m = &container.merged;
        fs::write(m.join("etc/hostname"), "box").unwrap();
        fs::write(m.join("new.txt"), "added").unwrap();
        xattr::set(m.join("new.txt"), "user.note", b"kept").unwrap();
        fs::remove_file(m.join("etc/os-release")).unwrap();
        fs::remove_dir_all(m.join("var/cache")).unwrap();
        fs::create_dir(m.join("var/cache")).unwrap();
        fs::write(m.join("var/cache/rebuilt"), "again").unwrap();
        fs::set_permissions(m.join("bin/tool"), fs::Permissions::from_mode(0o700)).unwrap();
        fs::create_dir_all(m.join("app/lib")).unwrap();
        fs::write(m.join("app/lib/one"), "shared").unwrap();
        fs::hard_link(m.join("app/lib/one"), m.join("app/lib/two")).unwrap();
        std::os::unix::fs::symlink("lib/one", m.join("app/current")).unwrap();
        let seen = render_dir(m);

        let lines: Vec<String> = changes(&container.upper, &lowers)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        insta::assert_snapshot!("changes", lines.join("\n"));

        let mut tar = Vec::new();
        let info = write_layer(&container.upper, &mut tar).unwrap();
        assert_eq!(info.diff_id, Digest::of(&tar).to_string());
        assert_eq!(info.bytes, tar.len() as u64);
        let mut again = Vec::new();
        write_layer(&container.upper, &mut again).unwrap();
        assert!(tar == again, "the same upper dir must give the same bytes");
        insta::assert_snapshot!("committed_layer_entries", list_tar(&tar));

        // The new layer, stacked on the image's, shows what the container saw.
        lowers.push(temp.path().join("committed"));
        unpack_checked(&tar, &lowers[2]);
        let image = Overlay::mount(temp.path(), "image", &lowers);
        assert_eq!(render_dir(&image.merged), seen);
        let note = xattr::get(image.merged.join("new.txt"), "user.note").unwrap();
        assert_eq!(
            note.as_deref(),
            Some(&b"kept"[..]),
            "xattrs travel as PAX records"
        );
        assert!(changes(&image.upper, &lowers).unwrap().is_empty());
    }
    leaks.assert_nothing_new(temp.path());
    temp.close().unwrap();
}

/// Unpack `blob` into a new directory `dest` and check the reported diff_id.
fn unpack_checked(blob: &[u8], dest: &Path) {
    fs::create_dir(dest).unwrap();
    let stats = unpack_layer(blob, dest).unwrap();
    let tar = if blob.starts_with(&[0x1f, 0x8b]) {
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(blob), &mut plain).unwrap();
        plain
    } else {
        blob.to_vec()
    };
    assert_eq!(stats.diff_id, Digest::of(&tar).to_string());
    assert_eq!(stats.bytes, tar.len() as u64);
}

/// An overlay mount, unmounted when dropped (also when a test panics), so
/// no test leaves a mount behind.
struct Overlay {
    merged: PathBuf,
    upper: PathBuf,
}

impl Overlay {
    fn mount(temp: &Path, name: &str, lowers: &[PathBuf]) -> Overlay {
        let dir = temp.join(name);
        let [upper, work, merged] = ["upper", "work", "merged"].map(|d| dir.join(d));
        for d in [&upper, &work, &merged] {
            fs::create_dir_all(d).unwrap();
        }
        let options = overlay_options(lowers, &upper, &work);
        mount(
            Some("overlay"),
            &merged,
            Some("overlay"),
            MsFlags::empty(),
            Some(options.as_str()),
        )
        .unwrap();
        Overlay { merged, upper }
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        if let Err(e) = umount2(&self.merged, MntFlags::MNT_DETACH) {
            eprintln!("cannot unmount {}: {e}", self.merged.display());
        }
    }
}

/// A layer tar made from model entries, so the model and the kernel are
/// given the very same layer.
fn tar_of(entries: &[E]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(entry.mode);
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        header.set_size(0);
        match &entry.kind {
            Kind::File { content } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(content.len() as u64);
                tar.append_data(&mut header, &entry.path, &content[..])
                    .unwrap();
            }
            Kind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                tar.append_data(&mut header, &entry.path, std::io::empty())
                    .unwrap();
            }
            Kind::Symlink { target } | Kind::Hardlink { target } => {
                let kind = match entry.kind {
                    Kind::Symlink { .. } => tar::EntryType::Symlink,
                    _ => tar::EntryType::Link,
                };
                header.set_entry_type(kind);
                tar.append_link(&mut header, &entry.path, target).unwrap();
            }
        }
    }
    tar.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, bytes).unwrap();
    encoder.finish().unwrap()
}

/// A real directory in the format of [`Tree::render`], plus what only a
/// layer directory holds: whiteout devices and opaque marks.
fn render_dir(root: &Path) -> String {
    fn visit(root: &Path, rel: &Path, out: &mut String) {
        let mut names: Vec<_> = fs::read_dir(root.join(rel))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        for name in names {
            let rel = rel.join(name);
            let full = root.join(&rel);
            let meta = fs::symlink_metadata(&full).unwrap();
            let mode = meta.mode() & 0o7777;
            let shown = format!("/{}", rel.display());
            let kind = meta.file_type();
            if kind.is_dir() {
                let opaque = xattr::get(&full, "trusted.overlay.opaque").unwrap();
                let mark = if opaque.is_some() { " (opaque)" } else { "" };
                out.push_str(&format!("dir  {mode:04o} {shown}{mark}\n"));
                visit(root, &rel, out);
            } else if kind.is_file() {
                let content = String::from_utf8_lossy(&fs::read(&full).unwrap()).into_owned();
                out.push_str(&format!("file {mode:04o} {shown} {content:?}\n"));
            } else if kind.is_symlink() {
                let target = fs::read_link(&full).unwrap();
                out.push_str(&format!("link 0777 {shown} -> {}\n", target.display()));
            } else if kind.is_char_device() && meta.rdev() == 0 {
                out.push_str(&format!("char {mode:04o} {shown} (whiteout)\n"));
            } else {
                panic!("unexpected file type at {shown}");
            }
        }
    }
    let mut out = String::new();
    visit(root, Path::new(""), &mut out);
    out
}

/// A tar's entries, one a line: type, path, link target.
fn list_tar(bytes: &[u8]) -> String {
    let mut archive = tar::Archive::new(bytes);
    let mut out = String::new();
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let header = entry.header();
        let link = match entry.link_name().unwrap() {
            Some(target) => format!(" -> {}", target.display()),
            None => String::new(),
        };
        out.push_str(&format!(
            "{:?} {:04o} {}{link}\n",
            header.entry_type(),
            header.mode().unwrap(),
            entry.path().unwrap().display()
        ));
    }
    out
}

#[test]
fn later_entries_of_a_layer_replace_earlier_ones() {
    if !require_root() {
        return;
    }
    let _serial = cratebox_testkit::one_at_a_time();
    let temp = tempfile::tempdir().unwrap();
    let layer = vec![
        E::dir("d"),
        E::file("d/inside", "gone with d"),
        E::file("d", "d is a file now"),
        E::symlink("s", "d"),
        E::dir("s").mode(0o700),
        E::file("s/inside", "s is a directory now"),
        E::file("f", "kept"),
        E::whiteout("f"),
        E::dir("w"),
        E::whiteout("w"),
        E::file("w/x", "this layer's"),
    ];
    let dest = temp.path().join("layer");
    unpack_checked(&tar_of(&layer), &dest);
    insta::assert_snapshot!(render_dir(&dest), @r#"
    file 0644 /d "d is a file now"
    file 0644 /f "kept"
    dir  0700 /s
    file 0644 /s/inside "s is a directory now"
    dir  0755 /w (opaque)
    file 0644 /w/x "this layer's"
    "#);
    // What overlayfs will show agrees with the model, opaque mark aside.
    let model = Tree::from_layers(&[&layer]).unwrap().render();
    assert_eq!(render_dir(&dest).replace(" (opaque)", ""), model);
    // Directory times are the layer's, set after their children were made.
    let s_time = fs::metadata(dest.join("s")).unwrap().mtime();
    assert_eq!(s_time, 1_700_000_000);
    temp.close().unwrap();
}
