//! Small file helpers shared by both versions: a cgroup's interface is
//! files, and every error should name the file.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::CgroupError;

/// Write `value` to `dir/file`, as `echo value > file` would.
pub(crate) fn write_file(dir: &Path, file: &str, value: &str) -> Result<(), CgroupError> {
    let path = dir.join(file);
    fs::write(&path, value).map_err(|source| CgroupError::Write {
        path,
        value: value.to_string(),
        source,
    })
}

/// Read a whole file, trimmed.
pub(crate) fn read_file(path: &Path) -> Result<String, CgroupError> {
    fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|source| CgroupError::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// A number from a one-value file, `None` if the file is missing or says "max".
pub(crate) fn read_number(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The value of `key` in a flat-keyed file such as memory.events
/// ("oom_kill 3") or cpu.stat ("usage_usec 1234").
pub(crate) fn read_key(path: &Path, key: &str) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// Create `parent/name`, and `parent` itself if needed. A concurrent
/// teardown may remove an empty `parent` between the two steps; try again.
pub(crate) fn make_dir(parent: &Path, name: &str) -> Result<PathBuf, CgroupError> {
    let path = parent.join(name);
    let mut attempts = 0;
    loop {
        fs::create_dir_all(parent).map_err(|source| CgroupError::Create {
            path: parent.to_path_buf(),
            source,
        })?;
        match fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempts < 5 => attempts += 1,
            Err(source) => return Err(CgroupError::Create { path, source }),
        }
    }
}

/// The pids listed in `dir/cgroup.procs`.
pub(crate) fn procs(dir: &Path) -> Vec<Pid> {
    fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .map(Pid::from_raw)
        .collect()
}

// ANCHOR: remove_dir
/// Remove a cgroup directory. rmdir(2) refuses (EBUSY) while any process
/// is still in it, and processes of a finished container may linger a
/// moment (the kernel kills the rest of a PID namespace when its init
/// exits, but not instantly), so kill what is left and try again.
/// Then remove the shared parent too if this was its last child.
pub(crate) fn remove_dir(dir: &Path) -> Result<(), CgroupError> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match fs::remove_dir(dir) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            // EBUSY: processes are still inside. Kill them and try again.
            Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EBUSY as i32) => {
                if Instant::now() > deadline {
                    return Err(CgroupError::Busy(dir.to_path_buf()));
                }
                for pid in procs(dir) {
                    let _ = kill(pid, Signal::SIGKILL);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(source) => {
                return Err(CgroupError::Remove {
                    path: dir.to_path_buf(),
                    source,
                })
            }
        }
    }
    if let Some(parent) = dir.parent() {
        // Fails while other containers still have cgroups there: fine.
        let _ = fs::remove_dir(parent);
    }
    Ok(())
}
// ANCHOR_END: remove_dir
