//! Exercise 02's tests: the /dev plan as shell commands, in both modes, and
//! step for step the same as the /dev part of cratebox's own mount plan.

#[cfg(not(feature = "solution"))]
use ex02_dev_plan as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/02_dev_plan.rs"]
mod subject;

use std::path::{Path, PathBuf};

use cratebox_sandbox::mounts::{mount_plan, MountOp, PlanOptions};
use subject::dev_plan;

fn render(plan: &[MountOp]) -> String {
    plan.iter().map(|op| format!("{op}\n")).collect()
}

/// The path a step creates or mounts on.
fn path_of(op: &MountOp) -> Option<&PathBuf> {
    match op {
        MountOp::Bind { target, .. }
        | MountOp::Filesystem { target, .. }
        | MountOp::Overlay { target, .. }
        | MountOp::ReadOnly { target, .. }
        | MountOp::Remount { target, .. }
        | MountOp::Mask { target }
        | MountOp::ReadOnlyPath { target }
        | MountOp::Tmpfs { target, .. } => Some(target),
        MountOp::Device { path, .. } => Some(path),
        MountOp::Symlink { link, .. } => Some(link),
        MountOp::MakePrivate { .. } | MountOp::PivotRoot { .. } | MountOp::CopyUp { .. } => None,
    }
}

/// The steps of cratebox's mount plan that touch `rootfs/dev`.
fn dev_steps_of_mount_plan(rootfs: &Path, user_namespace: bool) -> Vec<MountOp> {
    let dev = rootfs.join("dev");
    mount_plan(
        rootfs,
        &PlanOptions {
            user_namespace,
            ..PlanOptions::default()
        },
    )
    .into_iter()
    .filter(|op| path_of(op).is_some_and(|path| path.starts_with(&dev)))
    .collect()
}

#[test]
fn as_root_devices_are_created_with_mknod() {
    insta::assert_snapshot!(render(&dev_plan(Path::new("/rootfs"), false)));
}

#[test]
fn in_a_user_namespace_devices_are_bound_from_the_host() {
    let plan = dev_plan(Path::new("/rootfs"), true);
    assert!(
        !plan.iter().any(|op| matches!(op, MountOp::Device { .. })),
        "mknod is refused in a user namespace"
    );
    insta::assert_snapshot!(render(&plan));
}

#[test]
fn device_binds_are_onto_files_not_directories() {
    for op in dev_plan(Path::new("/rootfs"), true) {
        if let MountOp::Bind { file, .. } = op {
            assert!(file, "{op}: a device node can only be bound onto a file");
        }
    }
}

#[test]
fn same_steps_as_cratebox_mount_plan() {
    for user_namespace in [false, true] {
        let rootfs = Path::new("/var/lib/cratebox/rootfs");
        assert_eq!(
            dev_plan(rootfs, user_namespace),
            dev_steps_of_mount_plan(rootfs, user_namespace),
            "user_namespace: {user_namespace}"
        );
    }
}
