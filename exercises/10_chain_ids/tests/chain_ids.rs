//! Exercise 10's tests: the chain IDs of ubuntu's and nginx's layers, the
//! same IDs as cratebox's own, and the sharing they make possible.

#[cfg(not(feature = "solution"))]
use ex10_chain_ids as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/10_chain_ids.rs"]
mod subject;

use cratebox_image::chain;
use cratebox_image::digest::Digest;
use subject::chain_ids;

/// A stand-in diff ID for a layer called `name`: the digest of its name.
fn diff_id(name: &str) -> Digest {
    Digest::of(name.as_bytes())
}

/// Stand-in diff IDs for the named layers, base first.
fn diff_ids(names: &[&str]) -> Vec<Digest> {
    names.iter().map(|name| diff_id(name)).collect()
}

/// The first 12 hex digits, as docker shows IDs.
fn short(digest: &Digest) -> &str {
    &digest.as_str()["sha256:".len()..][..12]
}

const UBUNTU: &[&str] = &["A", "B", "C"];
const NGINX: &[&str] = &["A", "B", "C", "nginx"];

#[test]
fn chain_ids_of_nginx_layer_by_layer() {
    let ids = chain_ids(&diff_ids(NGINX));
    assert_eq!(ids.len(), NGINX.len(), "one chain ID per layer");
    let mut text = String::new();
    for name in NGINX {
        text += &format!("DiffID({name}) = {}\n", diff_id(name));
    }
    for (i, id) in ids.iter().enumerate() {
        let stack = NGINX[..=i].join("+");
        let how = match i {
            0 => format!("DiffID({})", NGINX[0]),
            _ => format!(
                "sha256(ChainID({}) + \" \" + DiffID({}))",
                NGINX[..i].join("+"),
                NGINX[i]
            ),
        };
        text += &format!("\nChainID({stack}) = {how}\n  = {id}\n");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn agrees_with_cratebox() {
    let stacks: &[&[&str]] = &[
        &[],
        &["A"],
        &["A", "B"],
        UBUNTU,
        NGINX,
        &["nginx", "C", "B", "A"],
        &["A", "A", "A"],
    ];
    for names in stacks {
        let ids = diff_ids(names);
        assert_eq!(chain_ids(&ids), chain::chain_ids(&ids), "layers {names:?}");
    }
}

#[test]
fn images_on_the_same_base_share_its_chain_ids() {
    let images: &[(&str, &[&str])] = &[
        ("ubuntu", UBUNTU),
        ("nginx", NGINX),
        // The same A and B, then its own third layer.
        ("other", &["A", "B", "X"]),
    ];
    let mut text = String::new();
    for (image, names) in images {
        text += &format!("{image}:\n");
        for (i, id) in chain_ids(&diff_ids(names)).iter().enumerate() {
            let stack = names[..=i].join("+");
            text += &format!("  {stack:<12} {}\n", short(id));
        }
    }
    insta::assert_snapshot!(text);

    let ubuntu = chain_ids(&diff_ids(UBUNTU));
    let nginx = chain_ids(&diff_ids(NGINX));
    let other = chain_ids(&diff_ids(&["A", "B", "X"]));
    assert_eq!(nginx[..3], ubuntu[..], "nginx reuses ubuntu's three layers");
    assert_eq!(other[..2], ubuntu[..2], "other reuses A and A+B");
    assert_ne!(other[2], ubuntu[2]);
}

#[test]
fn the_same_layer_on_another_base_is_another_chain() {
    // B alone and B on top of A: same diff ID, different stacks.
    let alone = chain_ids(&diff_ids(&["B"]));
    let on_a = chain_ids(&diff_ids(&["A", "B"]));
    assert_eq!(alone, vec![diff_id("B")]);
    assert_ne!(alone[0], on_a[1]);
    // Order matters too: A on B is not B on A.
    let b_then_a = chain_ids(&diff_ids(&["B", "A"]));
    assert_ne!(on_a[1], b_then_a[1]);
    assert!(chain_ids(&[]).is_empty());
}
