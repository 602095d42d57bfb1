//! A build's scratch space: `$CRATEBOX_ROOT/build/<pid>-<n>/`, holding each
//! step's temporary directories, removed when the build ends however it
//! ends. Ones left by a build that was killed are removed by the next.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use cratebox_sandbox::process::is_alive;

use crate::error::StepError;

static BUILDS: AtomicU64 = AtomicU64::new(0);

/// One build's scratch directory.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
    next: u64,
}

impl Scratch {
    /// A new scratch directory under `root`, after removing those of
    /// builds whose process is gone.
    pub fn new(root: &Path) -> io::Result<Scratch> {
        fs::create_dir_all(root)?;
        for entry in fs::read_dir(root).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let owner = name.split('-').next().and_then(|p| p.parse::<u32>().ok());
            if owner.is_some_and(|pid| !is_alive(pid)) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        let n = BUILDS.fetch_add(1, Ordering::Relaxed);
        let path = root.join(format!("{}-{n}", std::process::id()));
        fs::create_dir(&path)?;
        Ok(Scratch { path, next: 0 })
    }

    /// Where the scratch directory is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A fresh, empty directory inside, named after `what` it is for.
    pub fn fresh(&mut self, what: &str) -> Result<PathBuf, StepError> {
        let dir = self.fresh_path(what);
        fs::create_dir(&dir).map_err(|source| StepError::Scratch {
            path: dir.clone(),
            source,
        })?;
        Ok(dir)
    }

    /// A fresh name inside, for a file.
    pub fn fresh_path(&mut self, what: &str) -> PathBuf {
        self.next += 1;
        self.path.join(format!("{what}-{}", self.next))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}
