//! A mount's `options`, as `config.json` and fstab write them, turned into
//! what mount(2) takes: flags, a propagation change, and the file
//! system's own options as one data string.
//!
//! ```text
//! ["nosuid","noexec","nodev","mode=755","size=65536k"]
//!   → flags  MS_NOSUID|MS_NOEXEC|MS_NODEV
//!   → data   "mode=755,size=65536k"
//! ["rbind","ro","rprivate"]
//!   → flags  MS_BIND|MS_REC|MS_RDONLY, then MS_PRIVATE|MS_REC on its own
//! ```

use nix::mount::MsFlags;

/// What one mount's options ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountOptions {
    /// Flags for the mount itself (a bind mount is made with `MS_BIND`
    /// alone, then remounted with the rest: the kernel ignores them on
    /// the first call).
    pub flags: MsFlags,
    /// A propagation change, applied after the mount: shared, slave,
    /// private or unbindable, possibly recursive.
    pub propagation: Vec<MsFlags>,
    /// Options for the file system itself, comma-separated.
    pub data: String,
}

impl MountOptions {
    /// Whether this is a bind mount (`bind` or `rbind`).
    pub fn is_bind(&self) -> bool {
        self.flags.contains(MsFlags::MS_BIND)
    }

    /// The flags a bind mount is remounted with: all but the bind itself.
    pub fn remount_flags(&self) -> MsFlags {
        self.flags - MsFlags::MS_BIND - MsFlags::MS_REC
    }
}

/// Options with an effect this runtime does not give (id-mapped mounts,
/// per-mount recursive attributes): refused by name, never ignored.
const UNSUPPORTED: [&str; 10] = [
    "idmap", "ridmap", "rro", "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec", "rexec",
];

// ANCHOR: parse
/// Read `options`. `Err` names an option this runtime does not support.
pub fn parse(options: &[String]) -> Result<MountOptions, String> {
    let mut parsed = MountOptions {
        flags: MsFlags::empty(),
        propagation: Vec::new(),
        data: String::new(),
    };
    let mut data = Vec::new();
    for option in options {
        // (set, clear): most options come in pairs, `ro` and `rw`.
        let (set, clear) = match option.as_str() {
            "defaults" => (MsFlags::empty(), MsFlags::empty()),
            "ro" => (MsFlags::MS_RDONLY, MsFlags::empty()),
            "rw" => (MsFlags::empty(), MsFlags::MS_RDONLY),
            "nosuid" => (MsFlags::MS_NOSUID, MsFlags::empty()),
            "suid" => (MsFlags::empty(), MsFlags::MS_NOSUID),
            "nodev" => (MsFlags::MS_NODEV, MsFlags::empty()),
            "dev" => (MsFlags::empty(), MsFlags::MS_NODEV),
            "noexec" => (MsFlags::MS_NOEXEC, MsFlags::empty()),
            "exec" => (MsFlags::empty(), MsFlags::MS_NOEXEC),
            "sync" => (MsFlags::MS_SYNCHRONOUS, MsFlags::empty()),
            "async" => (MsFlags::empty(), MsFlags::MS_SYNCHRONOUS),
            "dirsync" => (MsFlags::MS_DIRSYNC, MsFlags::empty()),
            "mand" => (MsFlags::MS_MANDLOCK, MsFlags::empty()),
            "nomand" => (MsFlags::empty(), MsFlags::MS_MANDLOCK),
            "noatime" => (MsFlags::MS_NOATIME, MsFlags::empty()),
            "atime" => (MsFlags::empty(), MsFlags::MS_NOATIME),
            "nodiratime" => (MsFlags::MS_NODIRATIME, MsFlags::empty()),
            "diratime" => (MsFlags::empty(), MsFlags::MS_NODIRATIME),
            "relatime" => (MsFlags::MS_RELATIME, MsFlags::empty()),
            "norelatime" => (MsFlags::empty(), MsFlags::MS_RELATIME),
            "strictatime" => (MsFlags::MS_STRICTATIME, MsFlags::empty()),
            "nostrictatime" => (MsFlags::empty(), MsFlags::MS_STRICTATIME),
            "silent" => (MsFlags::MS_SILENT, MsFlags::empty()),
            "loud" => (MsFlags::empty(), MsFlags::MS_SILENT),
            "remount" => (MsFlags::MS_REMOUNT, MsFlags::empty()),
            "bind" => (MsFlags::MS_BIND, MsFlags::empty()),
            "rbind" => (MsFlags::MS_BIND | MsFlags::MS_REC, MsFlags::empty()),
            // nix has no name for it (Linux 5.10).
            "nosymfollow" => (
                MsFlags::from_bits_retain(libc::MS_NOSYMFOLLOW),
                MsFlags::empty(),
            ),
            "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave" | "unbindable"
            | "runbindable" => {
                let propagation = propagation(option).unwrap_or(MsFlags::MS_PRIVATE);
                parsed.propagation.push(propagation);
                continue;
            }
            unsupported if UNSUPPORTED.contains(&unsupported) => {
                return Err(format!("the {unsupported:?} option is not supported"));
            }
            // Anything else belongs to the file system: mode=755, size=64m.
            other => {
                data.push(other.to_string());
                continue;
            }
        };
        parsed.flags = (parsed.flags | set) - clear;
    }
    parsed.data = data.join(",");
    Ok(parsed)
}
// ANCHOR_END: parse

/// `rprivate` → `MS_PRIVATE | MS_REC`, and so on; `None` for anything
/// that is not a propagation.
pub fn propagation(name: &str) -> Option<MsFlags> {
    let (recursive, kind) = match name.strip_prefix('r') {
        Some(rest) if !rest.is_empty() && name != "ro" && name != "rw" => (true, rest),
        _ => (false, name),
    };
    let flag = match kind {
        "private" => MsFlags::MS_PRIVATE,
        "shared" => MsFlags::MS_SHARED,
        "slave" => MsFlags::MS_SLAVE,
        "unbindable" => MsFlags::MS_UNBINDABLE,
        _ => return None,
    };
    Some(if recursive {
        flag | MsFlags::MS_REC
    } else {
        flag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(options: &[&str]) -> String {
        let options: Vec<String> = options.iter().map(|s| s.to_string()).collect();
        match parse(&options) {
            Ok(parsed) => format!(
                "{options:?}\n  flags {:?}\n  propagation {:?}\n  data {:?}\n",
                parsed.flags, parsed.propagation, parsed.data
            ),
            Err(error) => format!("{options:?}\n  error: {error}\n"),
        }
    }

    #[test]
    fn podmans_mounts_and_others() {
        let cases: [&[&str]; 9] = [
            &["nosuid", "noexec", "nodev"],
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
            &["rbind", "ro", "rprivate"],
            &["bind", "rw", "nosuid", "nodev", "noexec", "private"],
            &["ro", "rw"],
            &["rslave"],
            &["idmap"],
            &["defaults"],
        ];
        let all: String = cases.iter().map(|c| shown(c)).collect();
        insta::assert_snapshot!(all);
    }

    #[test]
    fn propagation_names() {
        assert_eq!(
            propagation("rshared"),
            Some(MsFlags::MS_SHARED | MsFlags::MS_REC)
        );
        assert_eq!(propagation("slave"), Some(MsFlags::MS_SLAVE));
        assert_eq!(propagation("ro"), None);
        assert_eq!(propagation("rbind"), None);
    }
}
