//! Chapter 6: the pump's program, carried inside this one.
//!
//! build.rs compiles crates/pump into a static binary and this module
//! embeds its bytes, so `cratebox` stays one file to install. The first
//! detached container writes it to the state root, where every
//! supervisor execs the same file (and so shares its pages).

use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The pump, as built for this version of cratebox.
pub const PROGRAM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pump/cratebox-pump"));

/// The pump's file under `root`, written there unless it already holds
/// this version (a new file is renamed into place, so a supervisor never
/// execs half of one).
pub fn install(root: &Path) -> io::Result<PathBuf> {
    let path = root.join("cratebox-pump");
    if std::fs::read(&path).is_ok_and(|bytes| bytes == PROGRAM) {
        return Ok(path);
    }
    let mut file = tempfile_in(root)?;
    file.1.write_all(PROGRAM)?;
    file.1
        .set_permissions(std::fs::Permissions::from_mode(0o755))?;
    drop(file.1);
    std::fs::rename(&file.0, &path)?;
    Ok(path)
}

/// A new file beside `root`'s others, with a name no one else uses.
fn tempfile_in(root: &Path) -> io::Result<(PathBuf, std::fs::File)> {
    let path = root.join(format!(".cratebox-pump.{}", std::process::id()));
    let file = std::fs::File::create(&path)?;
    Ok((path, file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn the_pump_is_written_once_and_refuses_to_run_by_hand() {
        let root = tempfile::tempdir().expect("temp dir");
        let path = install(root.path()).expect("installed");
        let inode = std::fs::metadata(&path).expect("there").ino();
        assert_eq!(install(root.path()).expect("installed"), path);
        assert_eq!(std::fs::metadata(&path).expect("there").ino(), inode);
        // A static program: no interpreter (ld.so) to load.
        assert_eq!(&PROGRAM[..4], b"\x7fELF");
        assert!(!PROGRAM.windows(7).any(|w| w == b"ld-linux"));
        let out = std::process::Command::new(&path)
            .arg("--init")
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(125));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("not by hand"), "{said}");
        // A stale copy (another version) is replaced.
        std::fs::write(&path, b"old").expect("written");
        install(root.path()).expect("installed");
        assert_eq!(std::fs::read(&path).expect("read"), PROGRAM);
    }
}
