//! Exercise 11's tests: the layer directories of ubuntu and nginx, the
//! mount options for containers of each, and the same options as
//! cratebox's own.

#[cfg(not(feature = "solution"))]
use ex11_overlay_options as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/11_overlay_options.rs"]
mod subject;

use std::path::{Path, PathBuf};

use cratebox_image::chain::chain_ids;
use cratebox_image::digest::Digest;
use cratebox_image::overlay;
use subject::{lowers_for, overlay_options};

const LAYER_ROOT: &str = "/var/lib/cratebox/layers";

/// The chain IDs of layers with stand-in diff IDs: the digests of their
/// names.
fn chain(names: &[&str]) -> Vec<Digest> {
    let diff_ids: Vec<Digest> = names.iter().map(|n| Digest::of(n.as_bytes())).collect();
    chain_ids(&diff_ids)
}

const UBUNTU: &[&str] = &["A", "B", "C"];
const NGINX: &[&str] = &["A", "B", "C", "nginx"];

/// A container's upper and work directories.
fn container(name: &str) -> (PathBuf, PathBuf) {
    let dir = Path::new("/var/lib/cratebox/containers").join(name);
    (dir.join("upper"), dir.join("work"))
}

#[test]
fn layer_directories_of_ubuntu_and_nginx() {
    let mut text = String::new();
    for (image, names) in [("ubuntu", UBUNTU), ("nginx", NGINX)] {
        text += &format!("{image}:\n");
        for (i, dir) in lowers_for(Path::new(LAYER_ROOT), &chain(names))
            .iter()
            .enumerate()
        {
            let stack = names[..=i].join("+");
            text += &format!("  {stack:<12} {}\n", dir.display());
        }
    }
    insta::assert_snapshot!(text);
}

#[test]
fn mount_options_for_containers() {
    let stacks: &[(&str, &[&str], &str)] = &[
        ("ubuntu", UBUNTU, "shell"),
        ("nginx", NGINX, "web"),
        ("A alone", &["A"], "tiny"),
    ];
    let mut text = String::new();
    for (image, names, name) in stacks {
        let lowers = lowers_for(Path::new(LAYER_ROOT), &chain(names));
        let (upper, work) = container(name);
        let options = overlay_options(&lowers, &upper, &work);
        text += &format!("{image}, container {name}:\n  {options}\n");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn the_top_layer_comes_first() {
    let lowers = ["/l/base", "/l/middle", "/l/top"].map(PathBuf::from);
    let options = overlay_options(&lowers, Path::new("/c/upper"), Path::new("/c/work"));
    insta::assert_snapshot!(options);
}

#[test]
fn agrees_with_cratebox() {
    let layer_roots = ["/var/lib/cratebox/layers", "layers", "/tmp/a b/layers"];
    let stacks: &[&[&str]] = &[&["A"], UBUNTU, NGINX];
    for root in layer_roots {
        for names in stacks {
            let lowers = lowers_for(Path::new(root), &chain(names));
            assert_eq!(lowers.len(), names.len(), "one directory per layer");
            let (upper, work) = container("c1");
            assert_eq!(
                overlay_options(&lowers, &upper, &work),
                overlay::overlay_options(&lowers, &upper, &work),
                "layers {names:?} under {root}"
            );
        }
    }
    assert!(lowers_for(Path::new(LAYER_ROOT), &[]).is_empty());
}
