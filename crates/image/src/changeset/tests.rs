use super::*;

use LayerEntry as E;

/// Layer A: a base system.
fn layer_a() -> Vec<LayerEntry> {
    vec![
        E::dir("bin"),
        E::file("bin/sh", "sh"),
        E::symlink("bin/bash", "sh"),
        E::dir("etc"),
        E::file("etc/os-release", "ubuntu 24.04"),
        E::file("etc/motd", "welcome"),
        E::dir("var"),
        E::dir("var/cache"),
        E::dir("var/cache/apt"),
        E::file("var/cache/apt/pkgcache.bin", "cache v1"),
    ]
}

/// Layer B: `apt-get update && apt-get install curl`.
fn layer_b() -> Vec<LayerEntry> {
    vec![
        E::dir("usr"),
        E::dir("usr/bin"),
        E::file("usr/bin/curl", "curl"),
        E::dir("var/cache/apt"),
        E::file("var/cache/apt/pkgcache.bin", "cache v2"),
        E::dir("var/lib"),
        E::dir("var/lib/apt"),
        E::dir("var/lib/apt/lists"),
        E::file("var/lib/apt/lists/archive_Packages", "curl 8.5"),
    ]
}

/// Layer C: `rm -rf /var/lib/apt/lists/* /etc/motd`.
fn layer_c() -> Vec<LayerEntry> {
    vec![
        E::dir("etc"),
        E::whiteout("etc/motd"),
        E::dir("var/lib/apt/lists"),
        E::opaque("var/lib/apt/lists"),
    ]
}

/// nginx's own layer, on top of ubuntu's three.
fn layer_nginx() -> Vec<LayerEntry> {
    vec![
        E::dir("etc/nginx"),
        E::file("etc/nginx/nginx.conf", "worker_processes 1;"),
        E::dir("usr/sbin"),
        E::file("usr/sbin/nginx", "nginx").mode(0o755),
        E::hardlink("usr/sbin/nginx-debug", "usr/sbin/nginx"),
        E::whiteout("var/cache/apt"),
        E::dir("var/log/nginx"),
        E::symlink("var/log/nginx/access.log", "/dev/stdout"),
    ]
}

#[test]
fn ubuntu_is_a_b_c_and_nginx_is_one_more_layer() {
    let (a, b, c, nginx) = (layer_a(), layer_b(), layer_c(), layer_nginx());
    let ubuntu = Tree::from_layers(&[&a, &b, &c]).unwrap();
    insta::assert_snapshot!("ubuntu", ubuntu.render());

    let mut on_top = ubuntu.clone();
    apply(&mut on_top, &nginx).unwrap();
    insta::assert_snapshot!("nginx", on_top.render());
    assert_eq!(on_top, Tree::from_layers(&[&a, &b, &c, &nginx]).unwrap());
}

#[test]
fn whiteouts_delete_a_file_and_a_whole_directory() {
    let base = [
        E::dir("etc"),
        E::file("etc/motd", "hi"),
        E::file("etc/hosts", "127.0.0.1 localhost"),
        E::dir("opt/app/lib"),
        E::file("opt/app/lib/libapp.so", "elf"),
        E::file("opt/app/README", "read me"),
    ];
    let deletions = [E::whiteout("etc/motd"), E::whiteout("opt/app")];
    let tree = Tree::from_layers(&[&base, &deletions]).unwrap();
    insta::assert_snapshot!(tree.render(), @r#"
    dir  0755 /etc
    file 0644 /etc/hosts "127.0.0.1 localhost"
    dir  0755 /opt
    "#);
}

#[test]
fn opaque_dir_applies_first_whatever_the_tar_order() {
    let base = [
        E::dir("var/www"),
        E::file("var/www/index.html", "old site"),
        E::file("var/www/old.css", "old style"),
    ];
    let marker_first = [
        E::dir("var/www"),
        E::opaque("var/www"),
        E::file("var/www/index.html", "new site"),
    ];
    let marker_last = [
        E::dir("var/www"),
        E::file("var/www/index.html", "new site"),
        E::opaque("var/www"),
    ];
    let first = Tree::from_layers(&[&base, &marker_first]).unwrap();
    let last = Tree::from_layers(&[&base, &marker_last]).unwrap();
    assert_eq!(first, last, "the marker's place in the tar must not matter");
    insta::assert_snapshot!(first.render(), @r#"
    dir  0755 /var
    dir  0755 /var/www
    file 0644 /var/www/index.html "new site"
    "#);
}

#[test]
fn whiteout_spares_what_the_same_layer_adds() {
    let base = [E::file("etc/issue", "old")];
    let layer = [E::file("etc/issue", "new"), E::whiteout("etc/issue")];
    let tree = Tree::from_layers(&[&base, &layer]).unwrap();
    insta::assert_snapshot!(tree.render(), @r#"
    dir  0755 /etc
    file 0644 /etc/issue "new"
    "#);
}

#[test]
fn file_replaces_a_directory_and_its_subtree() {
    let base = [
        E::dir("srv/data/deep"),
        E::file("srv/data/deep/file", "x"),
        E::file("srv/data/top", "y"),
    ];
    let layer = [E::file("srv/data", "now a file").mode(0o600)];
    let tree = Tree::from_layers(&[&base, &layer]).unwrap();
    insta::assert_snapshot!(tree.render(), @r#"
    dir  0755 /srv
    file 0600 /srv/data "now a file"
    "#);
}

#[test]
fn directory_replaces_a_file() {
    let base = [
        E::file("etc/conf", "flat file"),
        E::symlink("etc/link", "conf"),
    ];
    let layer = [
        E::dir("etc/conf").mode(0o700),
        E::file("etc/conf/main", "nested"),
        E::file("etc/link/inside", "a link's name became a directory"),
    ];
    let tree = Tree::from_layers(&[&base, &layer]).unwrap();
    insta::assert_snapshot!(tree.render(), @r#"
    dir  0755 /etc
    dir  0700 /etc/conf
    file 0644 /etc/conf/main "nested"
    dir  0755 /etc/link
    file 0644 /etc/link/inside "a link's name became a directory"
    "#);
}

#[test]
fn directory_over_directory_keeps_the_children() {
    let base = [E::dir("home"), E::file("home/notes", "keep me")];
    let layer = [E::dir("home").mode(0o711)];
    let tree = Tree::from_layers(&[&base, &layer]).unwrap();
    insta::assert_snapshot!(tree.render(), @r#"
    dir  0711 /home
    file 0644 /home/notes "keep me"
    "#);
}

#[test]
fn paths_are_cleaned_and_the_root_entry_is_skipped() {
    let layer = [E::dir("./"), E::file("./etc//hostname", "box")];
    let tree = Tree::from_layers(&[&layer]).unwrap();
    insta::assert_snapshot!(tree.render(), @r#"
    dir  0755 /etc
    file 0644 /etc/hostname "box"
    "#);
}

#[test]
fn hostile_paths_are_refused_and_nothing_changes() {
    let base = [E::file("etc/passwd", "root:x:0:0")];
    let before = Tree::from_layers(&[&base]).unwrap();
    let cases = [
        (E::file("/etc/passwd", "evil"), "is absolute"),
        (E::file("etc/../../passwd", "evil"), "has a .. component"),
        (E::whiteout("etc/.."), "has a .. component"),
        (E::file("etc/.wh..", ""), "whiteout for no real name"),
        (E::file("etc/.wh.", ""), "whiteout for no real name"),
        (E::file("etc/.wh..wh.plnk", ""), "reserved prefix"),
        (E::file("./", ""), "not a directory"),
        (
            E::hardlink("etc/shadow", "/etc/shadow"),
            "not a file in the tree",
        ),
        (
            E::hardlink("etc/shadow", "etc/nothing"),
            "not a file in the tree",
        ),
    ];
    for (entry, expected) in cases {
        let mut tree = before.clone();
        let layer = [E::file("etc/new", "fine"), entry.clone()];
        let error = apply(&mut tree, &layer).unwrap_err().to_string();
        assert!(error.contains(expected), "{entry:?}: {error}");
        if !matches!(entry.kind, Kind::Hardlink { .. }) {
            assert_eq!(tree, before, "{entry:?} changed the tree");
        }
    }
}

#[test]
fn hard_link_is_the_same_file_again() {
    let layer = [
        E::file("usr/bin/gzip", "gzip").mode(0o755),
        E::hardlink("usr/bin/gunzip", "usr/bin/gzip"),
    ];
    let tree = Tree::from_layers(&[&layer]).unwrap();
    insta::assert_snapshot!(tree.render(), @r#"
    dir  0755 /usr
    dir  0755 /usr/bin
    file 0755 /usr/bin/gunzip "gzip"
    file 0755 /usr/bin/gzip "gzip"
    "#);
}
