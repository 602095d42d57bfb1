//! Which repositories a blob is known to be in, per registry, so that a
//! push can ask the registry to *mount* it from there instead of sending
//! it again (`POST /v2/NEW/blobs/uploads/?mount=DIGEST&from=OLD`).
//!
//! ```text
//! $CRATEBOX_ROOT/oci/sources/
//! └── 9f86d08…         one line per place: "127.0.0.1:5000 team/base"
//! ```

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use cratebox_image::digest::Digest;

/// The record of where blobs came from or went to.
#[derive(Debug, Clone)]
pub struct Sources {
    dir: PathBuf,
}

impl Sources {
    /// The record kept beside the image store at `store_root`.
    pub fn beside(store_root: &Path) -> Sources {
        Sources {
            dir: store_root.join("sources"),
        }
    }

    /// Note that `digest` is in `repository` on `registry`. Best effort:
    /// a record that cannot be written only costs an upload later.
    pub fn record(&self, digest: &Digest, registry: &str, repository: &str) {
        if self.find(digest, registry).iter().any(|r| r == repository) {
            return;
        }
        let _ = fs::create_dir_all(&self.dir);
        if let Ok(mut file) = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(digest.hex()))
        {
            let _ = writeln!(file, "{registry} {repository}");
        }
    }

    /// The repositories on `registry` that `digest` is known to be in.
    pub fn find(&self, digest: &Digest, registry: &str) -> Vec<String> {
        fs::read_to_string(self.dir.join(digest.hex()))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_once(' '))
            .filter(|(r, _)| *r == registry)
            .map(|(_, repository)| repository.to_string())
            .collect()
    }
}
