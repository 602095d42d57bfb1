//! Each step of the plan as the shell command that would do the same:
//! what the tests snapshot and the book prints.

use std::fmt;

use nix::mount::MsFlags;

use super::MountOp;

/// The `mount -o` names of the generic flags we use, in a fixed order.
fn flag_names(flags: MsFlags) -> Vec<&'static str> {
    [
        (MsFlags::MS_RDONLY, "ro"),
        (MsFlags::MS_NOSUID, "nosuid"),
        (MsFlags::MS_NODEV, "nodev"),
        (MsFlags::MS_NOEXEC, "noexec"),
        (MsFlags::MS_STRICTATIME, "strictatime"),
    ]
    .into_iter()
    .filter(|(flag, _)| flags.contains(*flag))
    .map(|(_, name)| name)
    .collect()
}

/// Each operation as the shell command that would do the same.
impl fmt::Display for MountOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MountOp::MakePrivate { target } => {
                write!(f, "mount --make-rprivate {}", target.display())
            }
            MountOp::Bind { source, target, .. } => {
                write!(f, "mount --rbind {} {}", source.display(), target.display())
            }
            MountOp::Filesystem {
                fstype,
                target,
                flags,
                data,
            } => {
                let mut options = flag_names(*flags);
                options.extend(data.iter().copied());
                write!(f, "mount -t {fstype}")?;
                if !options.is_empty() {
                    write!(f, " -o {}", options.join(","))?;
                }
                write!(f, " {fstype} {}", target.display())
            }
            MountOp::Overlay { target, options } => {
                write!(
                    f,
                    "mount -t overlay -o {options} overlay {}",
                    target.display()
                )
            }
            MountOp::Device {
                path,
                block,
                major,
                minor,
                mode,
            } => {
                let kind = if *block { 'b' } else { 'c' };
                write!(
                    f,
                    "mknod -m {mode:o} {} {kind} {major} {minor}",
                    path.display()
                )
            }
            MountOp::Remount { target, flags, .. } => write!(
                f,
                "mount -o remount,bind,{} {}",
                flag_names(*flags).join(","),
                target.display()
            ),
            MountOp::Mask { target } => {
                write!(
                    f,
                    "mask {} (/dev/null or an empty tmpfs over it)",
                    target.display()
                )
            }
            MountOp::ReadOnlyPath { target } => write!(
                f,
                "mount --bind {0} {0} && mount -o remount,bind,ro {0}",
                target.display()
            ),
            MountOp::Symlink { link, target } => {
                write!(f, "ln -s {} {}", target.display(), link.display())
            }
            MountOp::ReadOnly { target, .. } => {
                write!(f, "mount -o remount,bind,ro {}", target.display())
            }
            MountOp::Tmpfs { target, options } => {
                write!(
                    f,
                    "mount -t tmpfs -o nosuid,nodev,{options} tmpfs {}",
                    target.display()
                )
            }
            MountOp::CopyUp { from, to } => {
                write!(f, "cp -a {}/. {}", from.display(), to.display())
            }
            MountOp::PivotRoot { new_root } => {
                write!(
                    f,
                    "pivot_root {} (and detach the old root)",
                    new_root.display()
                )
            }
        }
    }
}
