//! Exercise 08's tests: ubuntu built from three layers and nginx from one
//! more, then each rule on its own: whiteouts, opaque directories in either
//! tar order, and a file where a directory was.

#[cfg(not(feature = "solution"))]
use ex08_apply_layer as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/08_apply_layer.rs"]
mod subject;

use subject::{apply, render, Entry, Node, Tree};

/// ubuntu's base layer: a few binaries, libraries and settings.
fn layer_a() -> Vec<Entry> {
    vec![
        Entry::dir("bin"),
        Entry::file("bin/bash", "ELF bash"),
        Entry::symlink("bin/sh", "bash"),
        Entry::dir("etc"),
        Entry::file("etc/hosts", "127.0.0.1 localhost"),
        Entry::file("etc/motd", "Welcome to Ubuntu"),
        Entry::file("etc/os-release", "Ubuntu 22.04"),
        Entry::dir("usr"),
        Entry::dir("usr/lib"),
        Entry::file("usr/lib/libc.so.6", "libc"),
        Entry::dir("var"),
        Entry::dir("var/cache"),
        Entry::dir("var/cache/apt"),
        Entry::file("var/cache/apt/pkgcache.bin", "cache v1"),
    ]
}

/// `apt-get update` and an upgrade: new files, a replaced one.
fn layer_b() -> Vec<Entry> {
    vec![
        Entry::dir("etc"),
        Entry::dir("etc/apt"),
        Entry::file(
            "etc/apt/sources.list",
            "deb http://archive.ubuntu.com/ubuntu jammy main",
        ),
        Entry::dir("var"),
        Entry::dir("var/cache"),
        Entry::dir("var/cache/apt"),
        Entry::file("var/cache/apt/pkgcache.bin", "cache v2"),
        Entry::dir("var/lib"),
        Entry::dir("var/lib/apt"),
        Entry::dir("var/lib/apt/lists"),
        Entry::file("var/lib/apt/lists/jammy_main", "package index"),
    ]
}

/// The clean-up a Dockerfile ends with: `rm -rf /var/lib/apt/lists/*
/// /var/cache/apt /etc/motd`, as whiteouts.
fn layer_c() -> Vec<Entry> {
    vec![
        Entry::dir("etc"),
        Entry::whiteout("etc/motd"),
        Entry::dir("var"),
        Entry::dir("var/cache"),
        Entry::whiteout("var/cache/apt"),
        Entry::dir("var/lib"),
        Entry::dir("var/lib/apt"),
        Entry::dir("var/lib/apt/lists"),
        Entry::whiteout("var/lib/apt/lists/jammy_main"),
    ]
}

/// nginx, installed on ubuntu. The tar does not name `usr/sbin` or
/// `var/log/nginx`: applying it must create them.
fn layer_nginx() -> Vec<Entry> {
    vec![
        Entry::dir("etc/nginx"),
        Entry::file(
            "etc/nginx/nginx.conf",
            "events {} http { server { listen 80; } }",
        ),
        Entry::file("usr/sbin/nginx", "ELF nginx"),
        Entry::symlink("var/log/nginx/access.log", "/dev/stdout"),
        Entry::symlink("var/log/nginx/error.log", "/dev/stderr"),
        Entry::file("var/www/html/index.html", "Welcome to nginx!"),
    ]
}

/// The tree that applying `layers` in turn to nothing gives.
fn build(layers: &[Vec<Entry>]) -> Tree {
    let mut tree = Tree::new();
    for layer in layers {
        apply(&mut tree, layer);
    }
    tree
}

/// A layer's entries in tar order, one a line, as `render` shows paths.
fn render_layer(layer: &[Entry]) -> String {
    layer
        .iter()
        .map(|entry| render(&Tree::from([(entry.path.clone(), entry.node.clone())])))
        .collect()
}

/// Indent every line of `text`.
fn indent(text: &str) -> String {
    text.lines().map(|line| format!("  {line}\n")).collect()
}

/// The lower tree, the layer, and the tree after applying the layer.
fn before_and_after(lower: &Tree, layer: &[Entry]) -> String {
    let mut tree = lower.clone();
    apply(&mut tree, layer);
    assert_no_whiteouts(&tree);
    format!(
        "lower:\n{}layer:\n{}result:\n{}",
        indent(&render(lower)),
        indent(&render_layer(layer)),
        indent(&render(&tree))
    )
}

fn assert_no_whiteouts(tree: &Tree) {
    for path in tree.keys() {
        assert!(
            !path.contains(".wh."),
            "the whiteout {path:?} is in the result"
        );
    }
}

/// A small lower tree for the rules one at a time.
fn lower() -> Tree {
    build(&[vec![
        Entry::dir("etc"),
        Entry::dir("etc/app.d"),
        Entry::file("etc/app.d/10-defaults.conf", "debug = false"),
        Entry::dir("etc/app.d/extra"),
        Entry::file("etc/app.d/extra/plugin.conf", "plugin = on"),
        Entry::file("etc/motd", "hello"),
        Entry::dir("usr"),
        Entry::dir("usr/lib"),
        Entry::file("usr/lib/libc.so.6", "libc"),
        Entry::dir("usr/lib64"),
        Entry::file("usr/lib64/ld-linux-x86-64.so.2", "loader"),
        Entry::dir("var"),
        Entry::dir("var/www"),
        Entry::file("var/www/index.html", "old page"),
        Entry::dir("var/www/static"),
        Entry::file("var/www/static/old.css", "body {}"),
    ]])
}

#[test]
fn ubuntu_is_a_then_b_then_c() {
    let steps = [
        ("A", build(&[layer_a()])),
        ("A+B", build(&[layer_a(), layer_b()])),
        ("A+B+C", build(&[layer_a(), layer_b(), layer_c()])),
    ];
    let text: String = steps
        .iter()
        .map(|(name, tree)| {
            assert_no_whiteouts(tree);
            format!("{name}:\n{}", indent(&render(tree)))
        })
        .collect();
    insta::assert_snapshot!(text);
}

#[test]
fn nginx_is_ubuntu_and_one_more_layer() {
    let ubuntu = build(&[layer_a(), layer_b(), layer_c()]);
    insta::assert_snapshot!(before_and_after(&ubuntu, &layer_nginx()));
}

#[test]
fn whiteouts_delete_a_name_and_all_under_it() {
    let layer = [
        Entry::whiteout("etc/motd"),
        Entry::whiteout("etc/app.d"),
        // Not there: nothing to delete, and no error.
        Entry::whiteout("etc/issue"),
        // usr/lib goes; usr/lib64, whose name merely starts the same, stays.
        Entry::whiteout("usr/lib"),
    ];
    insta::assert_snapshot!(before_and_after(&lower(), &layer));
}

#[test]
fn opaque_marker_first_in_the_tar() {
    let layer = [
        Entry::dir("var/www"),
        Entry::opaque("var/www"),
        Entry::file("var/www/index.html", "new page"),
        Entry::dir("var/www/js"),
        Entry::file("var/www/js/app.js", "main()"),
    ];
    insta::assert_snapshot!(before_and_after(&lower(), &layer));
}

#[test]
fn opaque_marker_last_in_the_tar() {
    // The same changes, the marker last: it still hides only the *lower*
    // children, never the ones this layer adds.
    let layer = [
        Entry::dir("var/www"),
        Entry::file("var/www/index.html", "new page"),
        Entry::dir("var/www/js"),
        Entry::file("var/www/js/app.js", "main()"),
        Entry::opaque("var/www"),
    ];
    insta::assert_snapshot!(before_and_after(&lower(), &layer));
}

#[test]
fn the_order_of_an_opaque_marker_does_not_matter() {
    let entries = [
        Entry::dir("var/www"),
        Entry::file("var/www/index.html", "new page"),
        Entry::opaque("var/www"),
    ];
    let mut results = Vec::new();
    for first in 0..entries.len() {
        // Every rotation of the entries, so the marker is first, last and
        // in the middle.
        let mut layer = entries.to_vec();
        layer.rotate_left(first);
        let mut tree = lower();
        apply(&mut tree, &layer);
        results.push(tree);
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
}

#[test]
fn a_file_replaces_a_directory_and_its_subtree() {
    let layer = [
        // A file where a directory with children was.
        Entry::file("etc/app.d", "one config file now"),
        // A directory where a file was.
        Entry::dir("etc/motd"),
        Entry::file("etc/motd/today", "hello again"),
        // A link where a directory was.
        Entry::symlink("var/www/static", "/srv/static"),
        // A directory over a directory: its children stay.
        Entry::dir("usr/lib"),
    ];
    insta::assert_snapshot!(before_and_after(&lower(), &layer));
}

#[test]
fn missing_parents_are_created() {
    let layer = [
        Entry::file("opt/app/bin/app", "ELF app"),
        // A parent that is a file below becomes a directory.
        Entry::file("etc/motd/today", "hello"),
    ];
    insta::assert_snapshot!(before_and_after(&lower(), &layer));
}

#[test]
fn an_empty_layer_changes_nothing() {
    let mut tree = lower();
    apply(&mut tree, &[]);
    assert_eq!(tree, lower());
    let mut empty = Tree::new();
    apply(&mut empty, &[]);
    assert_eq!(empty, Tree::new());
    assert_eq!(
        build(&[vec![Entry::dir("etc")]]).get("etc"),
        Some(&Node::Dir)
    );
}
