//! Exercise 16's tests: the plans for a few kinds of container, and the
//! same plan as cratebox's own.

#[cfg(not(feature = "solution"))]
use ex16_join_order as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/16_join_order.rs"]
mod subject;

use cratebox_sandbox::join as real;
use subject::join_plan;

/// Our namespaces: inode 100 + the name's position.
fn ours(name: &str) -> Option<u64> {
    real::JOIN_ORDER
        .iter()
        .position(|n| *n == name)
        .map(|i| 100 + i as u64)
}

/// A container with namespaces of its own except those in `shared`, on a
/// kernel that has none of `missing`.
fn container<'a>(shared: &'a [&str], missing: &'a [&str]) -> impl Fn(&str) -> Option<u64> + 'a {
    move |name| {
        if missing.contains(&name) {
            None
        } else if shared.contains(&name) {
            ours(name)
        } else {
            ours(name).map(|inode| inode + 1000)
        }
    }
}

#[test]
fn plans_for_some_containers() {
    let cases: [(&str, &[&str], &[&str]); 5] = [
        ("every namespace its own (--userns)", &[], &[]),
        ("no user namespace of its own", &["user"], &[]),
        (
            "sharing our network (--network host)",
            &["user", "net"],
            &[],
        ),
        ("a kernel without cgroup namespaces", &["user"], &["cgroup"]),
        (
            "sharing everything: nothing to join",
            &real::JOIN_ORDER,
            &[],
        ),
    ];
    let mut lines = Vec::new();
    for (what, shared, missing) in cases {
        let theirs = container(shared, missing);
        let plan = join_plan(&ours, &theirs);
        assert_eq!(
            plan,
            real::join_plan(&ours, &theirs),
            "{what}: not cratebox's plan"
        );
        lines.push(format!("{what}: {}", plan.join(" ")));
    }
    insta::assert_snapshot!(lines.join("\n"), @r"
    every namespace its own (--userns): user cgroup ipc uts net pid mnt
    no user namespace of its own: cgroup ipc uts net pid mnt
    sharing our network (--network host): cgroup ipc uts pid mnt
    a kernel without cgroup namespaces: ipc uts net pid mnt
    sharing everything: nothing to join: 
    ");
}

#[test]
fn user_first_mount_last() {
    let theirs = container(&[], &[]);
    let plan = join_plan(&ours, &theirs);
    assert_eq!(
        plan.first(),
        Some(&"user"),
        "the user namespace comes first"
    );
    assert_eq!(plan.last(), Some(&"mnt"), "the mount namespace comes last");
    let pid = plan.iter().position(|n| *n == "pid");
    let mnt = plan.iter().position(|n| *n == "mnt");
    assert!(pid < mnt, "pid before mnt: {plan:?}");
}
