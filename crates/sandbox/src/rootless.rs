//! Chapter 9: rootless. A user who is not root runs containers.
//!
//! Everything cratebox does (unpacking layers with their owners, mounting
//! overlays, making namespaces) needs root, but only root *of a user
//! namespace*. So the program, started by an ordinary user, first makes a
//! user namespace in which that user is root, and carries on in there:
//!
//! ```text
//! user 1000                                   pause process
//! ─────────                                   ─────────────
//! fork ─────────────────────────────────────► unshare(NEWUSER)
//!                                     ◄────── "made"
//! newuidmap PID 0 1000 1  1 100000 65536
//! newgidmap PID 0 1000 1  1 100000 65536
//! "mapped" ─────────────────────────────────► pause() forever
//! setns(its user ns)
//! (root inside: uid 0 = 1000 outside,
//!  uids 1..65535 = 100000.. outside)
//! ```
//!
//! One id would not do for an image whose files belong to several users,
//! so the system gives each user a range of *subordinate* ids in
//! `/etc/subuid` and `/etc/subgid`. Only root may write a map that uses
//! them: `newuidmap` and `newgidmap` (package `uidmap`) are small setuid
//! programs that check the ranges and write `/proc/PID/uid_map` for us.
//!
//! The pause process keeps the user namespace alive, so that the next
//! command (`ps`, `exec`, `stop`) joins the *same* one as the containers
//! it looks after; its pid is kept in `$XDG_RUNTIME_DIR/cratebox`, which the
//! system empties when the user logs out, as podman does.

use std::fs;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sched::{setns, unshare, CloneFlags};
use nix::unistd::{fork, getgid, getuid, pipe, read, ForkResult, Gid, Pid, Uid, User};
use thiserror::Error;

/// Why a rootless start failed.
#[derive(Debug, Error)]
pub enum RootlessError {
    /// No subordinate ids for the user.
    #[error("{user} has no subordinate {kind}s in {file}: add some with `sudo usermod --add-sub{kind}s 100000-165535 {user}`")]
    NoSubIds {
        /// The user's name.
        user: String,
        /// "uid" or "gid".
        kind: &'static str,
        /// The file read.
        file: String,
    },
    /// A line of /etc/subuid that is not `name:start:count`.
    #[error("{file} line {line}: expected NAME:START:COUNT, e.g. learner:100000:65536")]
    BadLine {
        /// The file.
        file: String,
        /// Its line number, from 1.
        line: usize,
    },
    /// newuidmap or newgidmap is missing or refused.
    #[error("{program} failed: {why}: install the uidmap package (`sudo apt install uidmap`) and check /etc/subuid and /etc/subgid")]
    MapTool {
        /// The program.
        program: &'static str,
        /// What happened.
        why: String,
    },
    /// No runtime directory to keep the pause process's pid in.
    #[error("rootless cratebox needs XDG_RUNTIME_DIR (a directory of yours that the system empties at logout, e.g. /run/user/{0}): log in through a session that sets it, or set it")]
    NoRuntimeDir(u32),
    /// A system call failed.
    #[error("rootless: {what}: {errno}")]
    Sys {
        /// The step.
        what: &'static str,
        /// Why.
        errno: nix::errno::Errno,
    },
    /// A file could not be read or written.
    #[error("rootless: {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn sys(what: &'static str) -> impl FnOnce(nix::errno::Errno) -> RootlessError {
    move |errno| RootlessError::Sys { what, errno }
}

/// Whether this process runs in a user namespace other than the host's:
/// the host's maps every id to itself, `0 0 4294967295`.
pub fn in_user_namespace() -> bool {
    let map = fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    let fields: Vec<&str> = map.split_whitespace().collect();
    fields != ["0", "0", "4294967295"]
}

// ANCHOR: subid
/// One range of subordinate ids: `count` ids from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubRange {
    /// The first id.
    pub start: u32,
    /// How many.
    pub count: u32,
}

/// The ranges `/etc/subuid` (or `/etc/subgid`) gives `user`, whose id is
/// `id`: lines `name:start:count`, where the name may also be the number.
pub fn parse_subid(
    text: &str,
    file: &str,
    user: &str,
    id: u32,
) -> Result<Vec<SubRange>, RootlessError> {
    let mut ranges = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || RootlessError::BadLine {
            file: file.to_string(),
            line: number + 1,
        };
        let mut fields = line.split(':');
        let (Some(name), Some(start), Some(count), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(bad());
        };
        let start: u32 = start.parse().map_err(|_| bad())?;
        let count: u32 = count.parse().map_err(|_| bad())?;
        if name == user || name.parse() == Ok(id) {
            ranges.push(SubRange { start, count });
        }
    }
    Ok(ranges)
}
// ANCHOR_END: subid

/// The arguments of `newuidmap PID ...` after the pid: the user's own id
/// as 0 inside, then each subordinate range from 1 on.
pub fn map_arguments(own: u32, ranges: &[SubRange]) -> Vec<String> {
    let mut arguments = vec!["0".to_string(), own.to_string(), "1".to_string()];
    let mut inside = 1u32;
    for range in ranges {
        arguments.extend([
            inside.to_string(),
            range.start.to_string(),
            range.count.to_string(),
        ]);
        inside = inside.saturating_add(range.count);
    }
    arguments
}

/// Where rootless cratebox keeps the pause process's pid:
/// `$XDG_RUNTIME_DIR/cratebox`.
pub fn runtime_dir() -> Result<PathBuf, RootlessError> {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir).join("cratebox")),
        _ => Err(RootlessError::NoRuntimeDir(getuid().as_raw())),
    }
}

/// Where rootless cratebox keeps its images and containers:
/// `$XDG_DATA_HOME/cratebox`, else `~/.local/share/cratebox`.
pub fn data_dir() -> Option<PathBuf> {
    match std::env::var_os("XDG_DATA_HOME") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir).join("cratebox")),
        _ => std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share/cratebox")),
    }
}

// ANCHOR: enter
/// Become root of this user's rootless user namespace: join the one its
/// pause process holds, or make it (and the pause process) first. Call it
/// while the program has one thread: the kernel lets only such a process
/// change its user namespace.
pub fn enter(runtime: &Path) -> Result<(), RootlessError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RootlessError::Io { path, source }
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(runtime)
        .map_err(io(runtime))?;
    let pid_file = runtime.join("pause.pid");
    // Two first commands at once must not make two pause processes: the
    // containers of one would be out of the other's reach.
    let lock_path = runtime.join("pause.lock");
    let lock = fs::File::create(&lock_path).map_err(io(&lock_path))?;
    let _lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive).map_err(
        |(_, errno)| RootlessError::Sys {
            what: "lock the pause process's pid file",
            errno,
        },
    )?;
    let joined = match held_namespaces(&pid_file) {
        Some(pid) => join(pid).is_ok(),
        None => false,
    };
    if !joined {
        let pid = make_namespaces()?;
        let staged = runtime.join("pause.pid.new");
        fs::write(&staged, format!("{pid}\n")).map_err(io(&staged))?;
        fs::rename(&staged, &pid_file).map_err(io(&pid_file))?;
        join(pid)?;
    }
    Ok(())
}
// ANCHOR_END: enter

/// The pause process named in `pid_file`, if it still runs and is ours.
fn held_namespaces(pid_file: &Path) -> Option<Pid> {
    let pid: i32 = fs::read_to_string(pid_file).ok()?.trim().parse().ok()?;
    let owner = fs::metadata(format!("/proc/{pid}")).ok()?.uid();
    let ours = owner == getuid().as_raw();
    // A recycled pid would be a process in the host's namespaces.
    let other_user_ns = fs::read_link(format!("/proc/{pid}/ns/user")).ok()?
        != fs::read_link("/proc/self/ns/user").ok()?;
    (ours && other_user_ns).then(|| Pid::from_raw(pid))
}

/// Join the user namespace of `pid`, and be root there. Only that: the
/// program stays in its mount namespace, and each container makes a new
/// one, owned by the user namespace, as a build step and `cp` do.
/// (Joining a mount namespace would also move our root directory to that
/// namespace's root, which is not `/` for a program started in a chroot.)
fn join(pid: Pid) -> Result<(), RootlessError> {
    let open = |name: &str| {
        let path = PathBuf::from(format!("/proc/{pid}/ns/{name}"));
        fs::File::open(&path).map_err(|source| RootlessError::Io { path, source })
    };
    let user = open("user")?;
    setns(user.as_fd(), CloneFlags::CLONE_NEWUSER).map_err(sys("join the user namespace"))?;
    // Our supplementary groups are the host's, unmapped here: drop them
    // where newgidmap allowed setgroups(2) (it may have denied it; they
    // then stay, shown as nobody's).
    let _ = nix::unistd::setgroups(&[]);
    let root = (Uid::from_raw(0), Gid::from_raw(0));
    nix::unistd::setresgid(root.1, root.1, root.1).map_err(sys("setresgid"))?;
    nix::unistd::setresuid(root.0, root.0, root.0).map_err(sys("setresuid"))?;
    Ok(())
}

/// Fork the pause process into a new user namespace, and have
/// newuidmap and newgidmap map them.
fn make_namespaces() -> Result<Pid, RootlessError> {
    let (uid, gid) = (getuid().as_raw(), getgid().as_raw());
    let name = User::from_uid(getuid())
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |user| user.name);
    let ranges = |file: &'static str, kind: &'static str, id: u32| {
        let text = fs::read_to_string(file).unwrap_or_default();
        let found = parse_subid(&text, file, &name, id)?;
        match found.is_empty() {
            true => Err(RootlessError::NoSubIds {
                user: name.clone(),
                kind,
                file: file.to_string(),
            }),
            false => Ok(found),
        }
    };
    let (subuids, subgids) = (
        ranges("/etc/subuid", "uid", uid)?,
        ranges("/etc/subgid", "gid", gid)?,
    );
    let (made_read, made_write) = pipe().map_err(sys("pipe"))?;
    let (mapped_read, mapped_write) = pipe().map_err(sys("pipe"))?;
    // SAFETY: the program is single-threaded here (the caller's promise),
    // so the child may allocate.
    match unsafe { fork() }.map_err(sys("fork"))? {
        ForkResult::Child => {
            drop((made_read, mapped_write));
            let code = match pause_process(made_write, mapped_read) {
                Ok(never) => match never {},
                Err(()) => 1,
            };
            // SAFETY: leave without running the parent's exit handlers.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop((made_write, mapped_read));
            let mut byte = [0u8; 1];
            let made = matches!(read(made_read.as_raw_fd(), &mut byte), Ok(1));
            let mapped = if made {
                map(child, "newuidmap", uid, &subuids)
                    .and_then(|()| map(child, "newgidmap", gid, &subgids))
            } else {
                Err(RootlessError::Sys {
                    what: "unshare(CLONE_NEWUSER) in the pause process",
                    errno: nix::errno::Errno::EPERM,
                })
            };
            if let Err(error) = mapped {
                let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
                let _ = nix::sys::wait::waitpid(child, None);
                return Err(error);
            }
            let mut mapped_write = fs::File::from(mapped_write);
            mapped_write
                .write_all(b"M")
                .map_err(|source| RootlessError::Io {
                    path: "a pipe".into(),
                    source,
                })?;
            Ok(child)
        }
    }
}

/// `newuidmap PID 0 UID 1 1 START COUNT ...` (or newgidmap).
fn map(
    pid: Pid,
    program: &'static str,
    own: u32,
    ranges: &[SubRange],
) -> Result<(), RootlessError> {
    let output = Command::new(program)
        .arg(pid.to_string())
        .args(map_arguments(own, ranges))
        .output()
        .map_err(|e| RootlessError::MapTool {
            program,
            why: e.to_string(),
        })?;
    match output.status.success() {
        true => Ok(()),
        false => Err(RootlessError::MapTool {
            program,
            why: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        }),
    }
}

/// The pause process: make the namespaces, wait to be mapped, then hold
/// them until killed, as nobody's child and with nothing of ours open.
fn pause_process(made: OwnedFd, mapped: OwnedFd) -> Result<std::convert::Infallible, ()> {
    unshare(CloneFlags::CLONE_NEWUSER).map_err(|_| ())?;
    let mut made = fs::File::from(made);
    made.write_all(b"U").map_err(|_| ())?;
    let mut byte = [0u8; 1];
    if !matches!(read(mapped.as_raw_fd(), &mut byte), Ok(1)) {
        return Err(());
    }
    drop((made, mapped));
    // Nothing of the command that made it stays open (its lock above all).
    // SAFETY: close_range(2) takes integers and touches no memory.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    // A session of its own, no terminal, stdio on /dev/null, in /.
    let _ = nix::unistd::setsid();
    if let Ok(null) = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for target in 0..3 {
            let _ = nix::unistd::dup2(null.as_raw_fd(), target);
        }
    }
    let _ = std::env::set_current_dir("/");
    loop {
        nix::unistd::pause();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_ranges_by_name_or_number() {
        let text = "# comment\nlearner:100000:65536\nother:200000:65536\n\n1000:300000:10\n";
        let ranges = parse_subid(text, "/etc/subuid", "learner", 1000).unwrap();
        assert_eq!(
            ranges,
            [
                SubRange {
                    start: 100000,
                    count: 65536
                },
                SubRange {
                    start: 300000,
                    count: 10
                }
            ]
        );
        assert!(parse_subid(text, "/etc/subuid", "nobody", 65534)
            .unwrap()
            .is_empty());
        assert_eq!(
            parse_subid("learner:100000\n", "/etc/subuid", "learner", 1000)
                .unwrap_err()
                .to_string(),
            "/etc/subuid line 1: expected NAME:START:COUNT, e.g. learner:100000:65536"
        );
    }

    #[test]
    fn the_map_puts_the_user_at_0_and_the_ranges_after() {
        let ranges = [
            SubRange {
                start: 100000,
                count: 65536,
            },
            SubRange {
                start: 300000,
                count: 10,
            },
        ];
        assert_eq!(
            map_arguments(1000, &ranges).join(" "),
            "0 1000 1 1 100000 65536 65537 300000 10"
        );
    }
}
