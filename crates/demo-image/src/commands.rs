//! The commands every demo image offers, whichever source built it.
//!
//! The README's examples, the chapters' demos, the book's samples and the
//! tests run these inside containers. An image without one answers
//! `tr: not found` and exit code 127, and only on the hosts whose source
//! lacked it, which is the worst kind of failure to debug. So both sources
//! build from this one list: busybox links each name as an applet, the host
//! source copies each program with the libraries it loads, and either one
//! stops the build, naming the command and what provides it, when it cannot
//! offer one that is [`Need::Required`].
//!
//! The list is also part of an image's identity: the manifest records the
//! names it was built against, and an image built against another list is
//! rebuilt (see [`crate::verify`]).
//!
//! `crates/testkit/tests/commands_used.rs` parses the README, the chapter
//! demos, the book's samples and the notes-server Dockerfile, and fails when any of
//! them runs a command that is not here.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// Whether a build may go without a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The build fails without it.
    Required,
    /// Offered when the source has it. Only for commands that a test or a
    /// question in the book uses, from a package a minimal host may lack:
    /// refusing to build the image over those would stop the reader at the
    /// very first command.
    Optional,
}

/// One command the demo image offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    /// Its name, as a container's PATH lookup finds it.
    pub name: &'static str,
    /// The Debian package that installs it on a host, for the error message
    /// of a host that lacks it.
    pub package: &'static str,
    pub need: Need,
}

const fn required(name: &'static str, package: &'static str) -> Offer {
    Offer {
        name,
        package,
        need: Need::Required,
    }
}

const fn optional(name: &'static str, package: &'static str) -> Offer {
    Offer {
        name,
        package,
        need: Need::Optional,
    }
}

// ANCHOR: commands
/// Every command the demo image offers, and where each is used.
pub const COMMANDS: [Offer; 36] = [
    // The shell: every `sh -c`, every RUN step, every chapter's demo.
    required("sh", "dash"),
    // The chapters' demos and the commands they suggest trying.
    required("echo", "coreutils"),
    required("ls", "coreutils"),
    required("tr", "coreutils"),
    required("hostname", "hostname"),
    required("kill", "procps"),
    required("ps", "procps"),
    required("cat", "coreutils"),
    required("sleep", "coreutils"),
    required("wc", "coreutils"),
    required("timeout", "coreutils"),
    // The book's samples and experiments (book/src/output, "Try it").
    required("mount", "mount"),
    required("umount", "mount"),
    required("id", "coreutils"),
    required("touch", "coreutils"),
    required("stat", "coreutils"),
    required("ip", "iproute2"),
    required("grep", "grep"),
    required("sed", "sed"),
    required("mkdir", "coreutils"),
    required("rm", "coreutils"),
    required("test", "coreutils"),
    required("pwd", "coreutils"),
    required("true", "coreutils"),
    // The tests' RUN steps and scripts (chapters/*/tests).
    required("false", "coreutils"),
    required("ln", "coreutils"),
    required("chmod", "coreutils"),
    required("chown", "coreutils"),
    required("mknod", "coreutils"),
    // For looking around a container.
    required("env", "coreutils"),
    required("head", "coreutils"),
    required("readlink", "coreutils"),
    required("rmdir", "coreutils"),
    required("uname", "coreutils"),
    // Chapter 2's loopback test pings; chapter 5 asks what a RUN wget does.
    optional("ping", "iputils-ping"),
    optional("wget", "wget"),
];
// ANCHOR_END: commands

/// The names on the list, in order: what a manifest records.
pub fn names() -> Vec<String> {
    COMMANDS.iter().map(|c| c.name.to_string()).collect()
}

/// The directories a container searches for a command without a slash:
/// docker's default PATH, which the sandbox gives every container.
const SEARCHED: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// Symlinks followed before giving up, as the kernel's own limit (`ELOOP`).
const MAX_LINKS: usize = 40;

/// Where a container's PATH lookup of `name` lands in the image at
/// `rootfs`: the path inside the image of the first PATH entry that leads,
/// through the image's own symlinks, to an executable regular file.
///
/// Symlinks are resolved as the container sees them: `/bin/ls ->
/// /bin/busybox` means the image's busybox, never the host's.
pub fn find(rootfs: &Path, name: &str) -> Option<PathBuf> {
    SEARCHED
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|inside| {
            resolve(rootfs, inside)
                .and_then(|on_disk| fs::metadata(on_disk).ok())
                .is_some_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The host path of `inside` (absolute, in the image) with every symlink on
/// the way resolved inside the image; `None` when it leads nowhere.
fn resolve(rootfs: &Path, inside: &Path) -> Option<PathBuf> {
    // Steps still to take, the next one last, and the path reached so far.
    let mut todo: Vec<Step> = steps(inside).rev().collect();
    let mut reached = PathBuf::from("/");
    let mut links = 0;
    while let Some(step) = todo.pop() {
        match step {
            Step::Root => reached = PathBuf::from("/"),
            Step::Up => {
                reached.pop();
            }
            Step::Down(name) => {
                let next = reached.join(name);
                let on_disk = on_disk(rootfs, &next);
                let metadata = fs::symlink_metadata(&on_disk).ok()?;
                if !metadata.file_type().is_symlink() {
                    reached = next;
                    continue;
                }
                links += 1;
                if links > MAX_LINKS {
                    return None;
                }
                let target = fs::read_link(&on_disk).ok()?;
                todo.extend(steps(&target).rev());
            }
        }
    }
    Some(on_disk(rootfs, &reached))
}

/// One step of a path walk.
enum Step {
    Root,
    Up,
    Down(OsString),
}

fn steps(path: &Path) -> impl DoubleEndedIterator<Item = Step> + '_ {
    path.components().filter_map(|c| match c {
        Component::RootDir => Some(Step::Root),
        Component::ParentDir => Some(Step::Up),
        Component::Normal(name) => Some(Step::Down(name.to_os_string())),
        Component::CurDir | Component::Prefix(_) => None,
    })
}

/// Where the image path `inside` is on the host's disk.
fn on_disk(rootfs: &Path, inside: &Path) -> PathBuf {
    rootfs.join(inside.strip_prefix("/").unwrap_or(inside))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn names_are_unique() {
        let mut names = names();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), COMMANDS.len());
    }

    #[test]
    fn find_follows_links_inside_the_image_only() {
        let image = tempfile::TempDir::new().unwrap();
        let root = image.path();
        for dir in ["bin", "usr/bin", "sbin"] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        fs::write(root.join("bin/busybox"), "").unwrap();
        fs::set_permissions(root.join("bin/busybox"), fs::Permissions::from_mode(0o755)).unwrap();
        // An absolute link is the image's /bin/busybox; a relative one
        // through `..` too.
        symlink("/bin/busybox", root.join("bin/ls")).unwrap();
        symlink("../../bin/busybox", root.join("usr/bin/tr")).unwrap();
        // A link to something only the host has leads nowhere.
        symlink("/usr/bin/env", root.join("sbin/env")).unwrap();
        // Not executable: no command.
        fs::write(root.join("bin/cat"), "").unwrap();

        assert_eq!(find(root, "ls"), Some(PathBuf::from("/bin/ls")));
        assert_eq!(find(root, "tr"), Some(PathBuf::from("/usr/bin/tr")));
        assert_eq!(find(root, "env"), None);
        assert_eq!(find(root, "cat"), None);
        assert_eq!(find(root, "busybox"), Some(PathBuf::from("/bin/busybox")));
    }

    #[test]
    fn a_link_loop_is_no_command() {
        let image = tempfile::TempDir::new().unwrap();
        let root = image.path();
        fs::create_dir(root.join("bin")).unwrap();
        symlink("/bin/b", root.join("bin/a")).unwrap();
        symlink("/bin/a", root.join("bin/b")).unwrap();
        assert_eq!(find(root, "a"), None);
    }
}
