//! Exercise 09's tests: the `docker diff` lines between pairs of trees, the
//! layer that records them, and the round trip: that layer, applied to the
//! lower tree by exercise 08's rules, gives the upper tree back.

#[cfg(not(feature = "solution"))]
use ex09_changeset as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/09_changeset.rs"]
mod subject;

use subject::{changes, is_under, join, parent_and_name, render, to_layer, Entry, Node, Tree};

/// Exercise 08's rules, written here once so these tests do not depend on
/// anyone's answer to 08: whiteouts first, against the lower tree, then
/// the other entries in tar order.
fn apply(tree: &mut Tree, layer: &[Entry]) {
    fn remove_subtree(tree: &mut Tree, path: &str) {
        tree.retain(|p, _| p != path && !is_under(p, path));
    }
    fn make_dir(tree: &mut Tree, dir: &str) {
        if dir.is_empty() || tree.get(dir) == Some(&Node::Dir) {
            return;
        }
        make_dir(tree, parent_and_name(dir).0);
        remove_subtree(tree, dir);
        tree.insert(dir.to_string(), Node::Dir);
    }
    for entry in layer {
        let (dir, name) = parent_and_name(&entry.path);
        if name == ".wh..wh..opq" {
            tree.retain(|path, _| !is_under(path, dir));
            make_dir(tree, dir);
        } else if let Some(deleted) = name.strip_prefix(".wh.") {
            remove_subtree(tree, &join(dir, deleted));
            make_dir(tree, dir);
        }
    }
    for entry in layer {
        if parent_and_name(&entry.path).1.starts_with(".wh.") {
            continue;
        }
        make_dir(tree, parent_and_name(&entry.path).0);
        match entry.node {
            Node::Dir => make_dir(tree, &entry.path),
            _ => {
                remove_subtree(tree, &entry.path);
                tree.insert(entry.path.clone(), entry.node.clone());
            }
        }
    }
}

/// The tree `layers` make, applied in turn to nothing.
fn build(layers: &[&[Entry]]) -> Tree {
    let mut tree = Tree::new();
    for layer in layers {
        apply(&mut tree, layer);
    }
    tree
}

/// A small ubuntu with nginx installed: the image every case starts from,
/// or ends at.
fn image() -> Tree {
    build(&[&[
        Entry::file("bin/bash", "ELF bash"),
        Entry::symlink("bin/sh", "bash"),
        Entry::file("etc/hosts", "127.0.0.1 localhost"),
        Entry::file("etc/nginx/nginx.conf", "worker_processes 1;"),
        Entry::file("etc/nginx/conf.d/default.conf", "listen 80;"),
        // An empty directory is a path of its own.
        Entry::dir("tmp"),
        Entry::file("usr/lib/libc.so.6", "libc"),
        Entry::file("usr/lib64/ld-linux-x86-64.so.2", "loader"),
        Entry::file("var/cache/apt/pkgcache.bin", "cache"),
        Entry::file("var/cache/apt/archives/nginx.deb", "deb"),
        Entry::file("var/www/html/index.html", "Welcome to nginx!"),
        Entry::file("var/www/html/404.html", "Not found"),
    ]])
}

/// One pair of trees: what the image had, and what the container sees.
struct Case {
    name: &'static str,
    lower: Tree,
    upper_view: Tree,
}

/// The image, changed by `layer`.
fn image_then(layer: &[Entry]) -> Tree {
    let mut tree = image();
    apply(&mut tree, layer);
    tree
}

fn cases() -> Vec<Case> {
    let case = |name, lower, upper_view| Case {
        name,
        lower,
        upper_view,
    };
    vec![
        case("nothing changed", image(), image()),
        case(
            "nginx.conf edited",
            image(),
            image_then(&[Entry::file("etc/nginx/nginx.conf", "worker_processes 4;")]),
        ),
        case(
            "a page added, one deleted",
            image(),
            image_then(&[
                Entry::file("var/www/html/new.html", "New!"),
                Entry::whiteout("var/www/html/404.html"),
            ]),
        ),
        case(
            "rm -rf /var/cache/apt",
            image(),
            image_then(&[Entry::whiteout("var/cache/apt")]),
        ),
        case(
            "rm -rf /usr/lib (usr/lib64 stays)",
            image(),
            image_then(&[Entry::whiteout("usr/lib")]),
        ),
        case("rmdir /tmp", image(), image_then(&[Entry::whiteout("tmp")])),
        case(
            "a new directory tree",
            image(),
            image_then(&[
                Entry::file("opt/app/bin/app", "ELF app"),
                Entry::file("opt/app/etc/app.conf", "port = 8080"),
            ]),
        ),
        case(
            "things change kind",
            image(),
            image_then(&[
                // A directory with children becomes a file.
                Entry::file("etc/nginx/conf.d", "include nothing;"),
                // A file becomes a directory.
                Entry::file("etc/hosts/README", "hosts moved"),
                // A link points elsewhere.
                Entry::symlink("bin/sh", "dash"),
            ]),
        ),
        case("from nothing", Tree::new(), image()),
        case("everything deleted", image(), Tree::new()),
    ]
}

/// Every case's name, then its `docker diff` lines.
fn diff_table() -> String {
    cases()
        .iter()
        .map(|case| {
            let lines: String = changes(&case.lower, &case.upper_view)
                .iter()
                .map(|change| format!("  {change}\n"))
                .collect();
            format!("{}:\n{lines}", case.name)
        })
        .collect()
}

/// Every case's name, then its layer in tar order.
fn layer_table() -> String {
    cases()
        .iter()
        .map(|case| {
            let layer = to_layer(&changes(&case.lower, &case.upper_view), &case.upper_view);
            let lines: String = layer
                .iter()
                .map(|entry| render(&Tree::from([(entry.path.clone(), entry.node.clone())])))
                .map(|line| format!("  {line}"))
                .collect();
            format!("{}:\n{lines}", case.name)
        })
        .collect()
}

#[test]
fn docker_diff_for_each_case() {
    insta::assert_snapshot!(diff_table());
}

#[test]
fn the_layer_for_each_case() {
    insta::assert_snapshot!(layer_table());
}

#[test]
fn applying_the_layer_to_the_lower_tree_gives_the_upper_tree() {
    for case in cases() {
        let layer = to_layer(&changes(&case.lower, &case.upper_view), &case.upper_view);
        let mut tree = case.lower.clone();
        apply(&mut tree, &layer);
        assert_eq!(
            render(&tree),
            render(&case.upper_view),
            "case {:?}: the lower tree plus the layer is not the upper tree",
            case.name
        );
    }
}

#[test]
fn changes_are_sorted_and_name_each_path_once() {
    for case in cases() {
        let paths: Vec<String> = changes(&case.lower, &case.upper_view)
            .into_iter()
            .map(|change| change.path)
            .collect();
        let mut sorted = paths.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(paths, sorted, "case {:?}", case.name);
    }
}
