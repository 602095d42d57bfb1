//! Exercise 29's tests: the plans for a container of its own, a pod's
//! member and a few more, each the same as cratebox's own runtime makes,
//! user and mount in their places, and the configs a runtime must refuse.

#[cfg(not(feature = "solution"))]
use ex29_oci_namespaces as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/29_oci_namespaces.rs"]
mod subject;

use cratebox_oci_runtime::namespaces as real;
use subject::{plan, Namespace, NamespaceError, Plan, KINDS};

/// The kernel's flags, from `linux/sched.h`, in bit order: the tests'
/// own copy, to name the bits of a plan.
const FLAGS: [(i32, &str); 8] = [
    (0x0000_0080, "CLONE_NEWTIME"),
    (0x0002_0000, "CLONE_NEWNS"),
    (0x0200_0000, "CLONE_NEWCGROUP"),
    (0x0400_0000, "CLONE_NEWUTS"),
    (0x0800_0000, "CLONE_NEWIPC"),
    (0x1000_0000, "CLONE_NEWUSER"),
    (0x2000_0000, "CLONE_NEWPID"),
    (0x4000_0000, "CLONE_NEWNET"),
];

/// A new namespace of type `kind`.
fn new(kind: &str) -> Namespace {
    Namespace {
        kind: kind.to_string(),
        path: None,
    }
}

/// The namespace at `path`, to join.
fn at(kind: &str, path: &str) -> Namespace {
    Namespace {
        kind: kind.to_string(),
        path: Some(path.to_string()),
    }
}

fn flag_name(flag: i32) -> &'static str {
    FLAGS
        .iter()
        .find(|(bit, _)| *bit == flag)
        .map_or("(not one flag)", |(_, name)| name)
}

/// `unshare  CLONE_NEWNS | CLONE_NEWPID`, then a `setns` line per join.
fn shown(plan: &Plan) -> String {
    let names: Vec<&str> = FLAGS
        .iter()
        .filter(|(bit, _)| plan.unshare & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    let mut lines = vec![format!(
        "    unshare  {:#010x}  {}",
        plan.unshare,
        if names.is_empty() {
            "(nothing)".to_string()
        } else {
            names.join(" | ")
        }
    )];
    for (flag, path) in &plan.join {
        lines.push(format!("    setns    {path}  {}", flag_name(*flag)));
    }
    lines.join("\n")
}

#[test]
fn the_table_has_the_kernels_flags() {
    for (kind, flag) in KINDS {
        assert_ne!(flag_name(flag), "(not one flag)", "{kind}: {flag:#x}");
    }
    let all = KINDS.iter().fold(0, |all, (_, flag)| all | flag);
    assert_eq!(all, 0x7e02_0080, "eight different bits");
}

/// The plan cratebox's runtime makes of the same entries, read from
/// config.json as it reads them, in the exercise's types; its error as
/// the exercise's error.
fn real_plan(namespaces: &[Namespace]) -> Result<Plan, NamespaceError> {
    let json: Vec<serde_json::Value> = namespaces
        .iter()
        .map(|namespace| match &namespace.path {
            Some(path) => serde_json::json!({ "type": namespace.kind, "path": path }),
            None => serde_json::json!({ "type": namespace.kind }),
        })
        .collect();
    let parsed: Vec<_> = serde_json::from_value(json.into()).expect("types the spec knows");
    match real::plan(parsed.as_slice()) {
        Ok(plan) => Ok(Plan {
            unshare: plan.unshare.bits(),
            join: plan
                .join
                .iter()
                .map(|(flag, path)| (flag.bits(), path.display().to_string()))
                .collect(),
        }),
        Err(real::NamespaceError::Duplicate(kind)) => {
            Err(NamespaceError::Duplicate(kind.to_string()))
        }
        Err(real::NamespaceError::EmptyPath(kind)) => {
            Err(NamespaceError::EmptyPath(kind.to_string()))
        }
    }
}

#[test]
fn plans_for_some_configs() {
    let cases: [(&str, Vec<Namespace>); 6] = [
        (
            "a container with namespaces of its own",
            vec![
                new("pid"),
                new("network"),
                new("ipc"),
                new("uts"),
                new("mount"),
                new("cgroup"),
            ],
        ),
        (
            "a member of a pod: the infra container's network, ipc and uts",
            vec![
                new("pid"),
                at("network", "/proc/4242/ns/net"),
                at("ipc", "/proc/4242/ns/ipc"),
                at("uts", "/proc/4242/ns/uts"),
                new("mount"),
                new("cgroup"),
            ],
        ),
        (
            "a user namespace and a time namespace of its own too",
            vec![
                new("user"),
                new("pid"),
                new("network"),
                new("mount"),
                new("time"),
            ],
        ),
        (
            "--network host: no network entry at all",
            vec![new("pid"), new("ipc"), new("uts"), new("mount")],
        ),
        (
            "joining another container's namespaces, listed in any order",
            vec![
                at("mount", "/proc/4242/ns/mnt"),
                at("network", "/run/netns/web"),
                at("pid", "/proc/4242/ns/pid"),
                at("user", "/proc/4242/ns/user"),
                at("ipc", "/proc/4242/ns/ipc"),
            ],
        ),
        ("no namespaces listed: all of them the runtime's", vec![]),
    ];
    let lines: Vec<String> = cases
        .iter()
        .map(|(what, namespaces)| {
            let plan = plan(namespaces).expect("a good config");
            assert_eq!(
                Ok(&plan),
                real_plan(namespaces).as_ref(),
                "{what}: not cratebox's plan"
            );
            format!("{what}:\n{}", shown(&plan))
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n\n"));
}

#[test]
fn user_first_mount_last_the_rest_in_the_configs_order() {
    let joined = plan(&[
        at("mount", "/m"),
        at("uts", "/u"),
        new("pid"),
        at("user", "/user"),
        at("network", "/n"),
        at("cgroup", "/c"),
    ])
    .expect("a good config");
    let paths: Vec<&str> = joined.join.iter().map(|(_, path)| path.as_str()).collect();
    assert_eq!(paths, ["/user", "/u", "/n", "/c", "/m"]);
    assert_eq!(joined.join[0].0, libc::CLONE_NEWUSER);
    assert_eq!(joined.join[4].0, libc::CLONE_NEWNS);
    assert_eq!(joined.unshare, libc::CLONE_NEWPID);

    // Without a user namespace to join, nothing moves but mount.
    let joined =
        plan(&[at("mount", "/m"), at("ipc", "/i"), at("uts", "/u")]).expect("a good config");
    let paths: Vec<&str> = joined.join.iter().map(|(_, path)| path.as_str()).collect();
    assert_eq!(paths, ["/i", "/u", "/m"]);
}

#[test]
fn configs_a_runtime_refuses() {
    // Types the spec does not know never reach cratebox's plan: reading
    // config.json refuses them first.
    for namespaces in [
        vec![new("pid"), new("uts"), new("pid")],
        vec![new("network"), at("network", "/run/netns/web")],
        vec![new("pid"), at("network", "")],
    ] {
        assert_eq!(plan(&namespaces), real_plan(&namespaces), "{namespaces:?}");
    }
    let cases: [Vec<Namespace>; 8] = [
        vec![new("pid"), new("net")],
        vec![new("PID")],
        vec![new("")],
        vec![new("pid"), new("uts"), new("pid")],
        vec![new("network"), at("network", "/run/netns/web")],
        vec![new("pid"), at("network", "")],
        // The first wrong entry is the one named.
        vec![new("bogus"), new("pid"), new("pid")],
        vec![new("pid"), new("pid"), new("bogus")],
    ];
    let lines: Vec<String> = cases
        .iter()
        .map(|namespaces| match plan(namespaces) {
            Ok(plan) => format!("accepted:\n{}", shown(&plan)),
            Err(error) => format!("✗ {error}"),
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn each_error_names_the_type() {
    assert_eq!(
        plan(&[new("foo")]),
        Err(NamespaceError::Unknown("foo".to_string()))
    );
    assert_eq!(
        plan(&[new("ipc"), at("ipc", "/proc/1/ns/ipc")]),
        Err(NamespaceError::Duplicate("ipc".to_string()))
    );
    assert_eq!(
        plan(&[at("network", "")]),
        Err(NamespaceError::EmptyPath("network".to_string()))
    );
    assert_eq!(
        NamespaceError::Unknown("foo".to_string()).to_string(),
        "linux.namespaces: unknown type \"foo\" \
         (known: pid, network, mount, ipc, uts, user, cgroup, time)"
    );
}
