//! The container's `mounts`, made under its root before pivot_root: each
//! destination resolved inside the root (chapter 2's mount points), the
//! options turned into flags ([`crate::mount_options`]), a bind mount's
//! flags by a remount, then the propagation. A `cgroup` mount binds the
//! container's own cgroup directories.

use std::fs;
use std::path::{Path, PathBuf};

use cratebox_sandbox::{mount_point, paths};
use nix::mount::{mount, MsFlags};
use oci_spec::runtime::Mount;

use crate::cgroup::ContainerCgroup;
use crate::mount_options;

// ANCHOR: mount_one
/// One entry of `mounts`, under `root` (before pivot_root).
pub fn mount_one(
    root: &Path,
    bundle: &Path,
    cgroup: &ContainerCgroup,
    m: &Mount,
) -> Result<(), String> {
    let options = mount_options::parse(m.options().as_deref().unwrap_or_default())?;
    let kind = m.typ().as_deref().unwrap_or("");
    let bind = options.is_bind() || kind == "bind";
    let source = m.source().as_ref().map(|s| {
        if bind && s.is_relative() {
            bundle.join(s)
        } else {
            s.clone()
        }
    });
    let planned = root.join(m.destination().strip_prefix("/").unwrap_or(m.destination()));
    let file_source = bind && source.as_ref().is_some_and(|s| s.exists() && !s.is_dir());
    let target = if file_source {
        mount_point::file(root, &planned)
    } else {
        mount_point::directory(root, &planned)
    }
    .map_err(|e| e.to_string())?;
    if kind == "cgroup" || kind == "cgroup2" {
        return mount_cgroup(&target, cgroup, &options);
    }
    if bind {
        let source = source.ok_or("a bind mount needs a source")?;
        mount(
            Some(&source),
            &target,
            None::<&str>,
            options.flags & (MsFlags::MS_BIND | MsFlags::MS_REC),
            None::<&str>,
        )
        .map_err(|e| format!("bind {}: {e}", source.display()))?;
        let extra = options.remount_flags();
        if !extra.is_empty() {
            paths::remount_adding(&target, extra)
                .map_err(|e| format!("remount with {extra:?}: {e}"))?;
        }
    } else {
        let data = Some(options.data.as_str()).filter(|d| !d.is_empty());
        let source = source.unwrap_or_else(|| PathBuf::from(kind));
        match mount(Some(&source), &target, Some(kind), options.flags, data) {
            Ok(()) => {}
            // sysfs in a user namespace that does not own the network
            // namespace, or mqueue in one that does not own the IPC one:
            // the kernel refuses a new instance; bind the host's, as runc does.
            Err(nix::errno::Errno::EPERM) if kind == "sysfs" || kind == "mqueue" => {
                let host = if kind == "sysfs" {
                    "/sys"
                } else {
                    "/dev/mqueue"
                };
                mount(
                    Some(host),
                    &target,
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                )
                .map_err(|e| format!("bind {host}: {e}"))?;
                paths::remount_adding(
                    &target,
                    options.flags
                        & (MsFlags::MS_RDONLY
                            | MsFlags::MS_NOSUID
                            | MsFlags::MS_NODEV
                            | MsFlags::MS_NOEXEC),
                )
                .map_err(|e| format!("remount: {e}"))?;
            }
            Err(e) => return Err(format!("mount -t {kind} {}: {e}", source.display())),
        }
    }
    for propagation in &options.propagation {
        mount(
            None::<&str>,
            &target,
            None::<&str>,
            *propagation,
            None::<&str>,
        )
        .map_err(|e| format!("propagation {propagation:?}: {e}"))?;
    }
    Ok(())
}
// ANCHOR_END: mount_one

/// A `cgroup` mount: the container's own cgroup directories, bound where
/// the hierarchies would be (what a mount inside a cgroup namespace would
/// show, and it works in a user namespace too).
fn mount_cgroup(
    target: &Path,
    cgroup: &ContainerCgroup,
    options: &mount_options::MountOptions,
) -> Result<(), String> {
    let limits = options.flags & (MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC);
    let bind = |from: &Path, to: &Path| -> Result<(), String> {
        mount(Some(from), to, None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .map_err(|e| format!("bind {}: {e}", from.display()))?;
        paths::remount_adding(
            to,
            options.flags
                & (MsFlags::MS_RDONLY
                    | MsFlags::MS_NOSUID
                    | MsFlags::MS_NODEV
                    | MsFlags::MS_NOEXEC),
        )
        .map_err(|e| format!("remount {}: {e}", to.display()))
    };
    match cgroup.version {
        Some(crate::cgroup::Version::V2) => {
            let dir = cgroup.dirs.first().ok_or("the container has no cgroup")?;
            bind(dir, target)
        }
        _ => {
            mount(
                Some("tmpfs"),
                target,
                Some("tmpfs"),
                limits,
                Some("mode=755"),
            )
            .map_err(|e| format!("tmpfs for the hierarchies: {e}"))?;
            // One directory per hierarchy, named as on the host
            // ("cpu,cpuacct"), and a link for each controller in it.
            let mut done = Vec::new();
            for (controller, dir) in &cgroup.controllers {
                let host_mount = dir
                    .ancestors()
                    .find(|a| a.parent() == Some(Path::new("/sys/fs/cgroup")))
                    .and_then(Path::file_name)
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| controller.clone());
                if !done.contains(&host_mount) {
                    let at = target.join(&host_mount);
                    fs::create_dir_all(&at).map_err(|e| format!("{}: {e}", at.display()))?;
                    bind(dir, &at)?;
                    done.push(host_mount.clone());
                }
                if *controller != host_mount && !target.join(controller).exists() {
                    let _ = std::os::unix::fs::symlink(&host_mount, target.join(controller));
                }
            }
            if options.flags.contains(MsFlags::MS_RDONLY) {
                paths::remount_adding(target, MsFlags::MS_RDONLY)
                    .map_err(|e| format!("remount read-only: {e}"))?;
            }
            Ok(())
        }
    }
}
