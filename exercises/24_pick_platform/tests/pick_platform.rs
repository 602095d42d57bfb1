//! Exercise 24's tests: the rules of `pick` on small lists, then whole
//! indexes: one like alpine's, with build attestations in it, and a few
//! odd ones.

#[cfg(not(feature = "solution"))]
use ex24_pick_platform as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/24_pick_platform.rs"]
mod subject;

use serde_json::{json, Value};
use subject::{manifest_for, pick, NoMatch, Platform};

fn platform(text: &str) -> Platform {
    text.parse().expect("a platform")
}

/// A digest of 64 times the same hex digit, so each entry's is told apart
/// at a glance.
fn digest(digit: char) -> String {
    format!("sha256:{}", digit.to_string().repeat(64))
}

/// Lists of entries, and a platform wanted from each.
const CASES: &[(&[&str], &str)] = &[
    (&["linux/amd64", "linux/arm64/v8"], "linux/amd64"),
    (&["linux/amd64", "linux/arm64/v8"], "linux/arm64"),
    (&["linux/amd64", "linux/arm64/v8"], "linux/arm64/v8"),
    (&["linux/amd64", "linux/arm64/v8"], "linux/aarch64"),
    (&["linux/amd64", "linux/arm64/v8"], "linux/x86_64"),
    // An arm64 entry without a variant is a v8 one.
    (&["linux/arm64"], "linux/arm64/v8"),
    (&["linux/arm64"], "linux/arm64"),
    // With no variant wanted, the default one is preferred, wherever it is...
    (&["linux/arm64/v9", "linux/arm64"], "linux/arm64"),
    (&["linux/amd64/v3", "linux/amd64"], "linux/amd64"),
    // ...and when there is none, the first of the same machine will do.
    (&["linux/arm64/v9"], "linux/arm64"),
    (&["linux/amd64/v3"], "linux/amd64"),
    (&["linux/arm/v7", "linux/arm/v6"], "linux/arm"),
    // A variant wanted must be there.
    (&["linux/amd64"], "linux/amd64/v3"),
    (&["linux/arm"], "linux/arm/v7"),
    (&["linux/arm/v6", "linux/arm/v7"], "linux/arm/v7"),
    (&["linux/arm64/v8"], "linux/arm64/v9"),
    // The OS counts too.
    (&["windows/amd64", "linux/amd64"], "linux/amd64"),
    (&["windows/amd64"], "linux/amd64"),
    (&["linux/amd64", "linux/amd64"], "linux/amd64"),
    (&[], "linux/amd64"),
];

#[test]
fn which_entry_is_picked() {
    let lines: Vec<String> = CASES
        .iter()
        .map(|(entries, want)| {
            let list: Vec<Platform> = entries.iter().map(|p| platform(p)).collect();
            let answer = match pick(&list, &platform(want)) {
                Some(i) => format!("entry {i}, {}", list[i]),
                None => "none".to_string(),
            };
            format!("{want:<15} from [{}]: {answer}", entries.join(", "))
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

/// An index like the one alpine's tags answer with: eight platforms, and
/// for two of them the attestations a build made (provenance, SBOM),
/// which are entries too, for platform `unknown/unknown`.
fn alpine_like() -> Value {
    let image = |digit: char, platform: Value| {
        json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest(digit),
            "size": 1025,
            "platform": platform,
        })
    };
    let attestation = |digit: char, of: char| {
        json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest(digit),
            "size": 837,
            "annotations": {
                "vnd.docker.reference.digest": digest(of),
                "vnd.docker.reference.type": "attestation-manifest",
            },
            "platform": {"architecture": "unknown", "os": "unknown"},
        })
    };
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            image('1', json!({"architecture": "amd64", "os": "linux"})),
            image('2', json!({"architecture": "arm", "os": "linux", "variant": "v6"})),
            image('3', json!({"architecture": "arm", "os": "linux", "variant": "v7"})),
            image('4', json!({"architecture": "arm64", "os": "linux", "variant": "v8"})),
            image('5', json!({"architecture": "386", "os": "linux"})),
            image('6', json!({"architecture": "ppc64le", "os": "linux"})),
            image('7', json!({"architecture": "riscv64", "os": "linux"})),
            image('8', json!({"architecture": "s390x", "os": "linux"})),
            attestation('a', '1'),
            attestation('b', '4'),
        ],
    })
}

fn show(index: &Value, wanted: &[&str]) -> String {
    let lines: Vec<String> = wanted
        .iter()
        .map(|want| match manifest_for(index, &platform(want)) {
            Ok(digest) => format!("{want:<15} → {digest}"),
            Err(error) => format!("{want:<15} ✗ {error}"),
        })
        .collect();
    lines.join("\n")
}

#[test]
fn manifests_of_an_index_like_alpines() {
    let wanted = [
        "linux/amd64",
        "linux/arm64",
        "linux/arm64/v8",
        "linux/arm/v7",
        "linux/arm/v6",
        "linux/arm",
        "linux/386",
        "linux/s390x",
        "linux/arm/v5",
        "linux/amd64/v2",
        "linux/mips64le",
        "windows/amd64",
    ];
    insta::assert_snapshot!(show(&alpine_like(), &wanted));
}

#[test]
fn manifests_of_odd_indexes() {
    let indexes = [
        json!({}),
        json!({"manifests": []}),
        json!({"manifests": "not a list"}),
        // An entry without a platform: empty names, which nothing wants.
        json!({"manifests": [
            {"digest": digest('1')},
            {"digest": digest('2'), "platform": {"os": "linux", "architecture": "amd64"}},
        ]}),
        json!({"manifests": [
            {"digest": digest('1'), "platform": {"os": "linux", "architecture": "arm64"}},
            {"digest": digest('2'), "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        ]}),
    ];
    let wanted = ["linux/amd64", "linux/arm64/v8"];
    let shown: Vec<String> = indexes
        .iter()
        .map(|index| format!("{index}\n{}", show(index, &wanted)))
        .collect();
    insta::assert_snapshot!(shown.join("\n\n"));
}

#[test]
fn no_match_lists_what_there_is() {
    assert_eq!(
        manifest_for(&alpine_like(), &platform("windows/amd64")),
        Err(NoMatch {
            wanted: platform("windows/amd64"),
            available: [
                "linux/amd64",
                "linux/arm/v6",
                "linux/arm/v7",
                "linux/arm64/v8",
                "linux/386",
                "linux/ppc64le",
                "linux/riscv64",
                "linux/s390x",
                "unknown/unknown",
                "unknown/unknown",
            ]
            .iter()
            .map(|p| platform(p))
            .collect(),
        })
    );
}
