//! The attempts that go through a file: the kernel's files under /proc
//! and /sys, and a device node. Masked and read-only paths and the device
//! cgroup stop these, whatever the capabilities.

use std::ffi::c_long;
use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::path::PathBuf;

use crate::sys;
use crate::{allowed, c_path, check, explain, refused, Outcome};

/// Only open it for writing: one byte written to it would act on the host
/// (`b` reboots at once).
pub(crate) fn open_sysrq() -> Outcome {
    let path = "/proc/sysrq-trigger";
    match OpenOptions::new().write(true).open(path) {
        Ok(_) => allowed(format!("open {path} for writing: opened (wrote nothing)")),
        Err(error) => refused(format!("open {path} for writing: {}", explain(&error))),
    }
}

/// The first bytes of the kernel's memory, as an ELF core file. A masked
/// kcore is `/dev/null` bound over it, which reads nothing.
pub(crate) fn read_kcore() -> Outcome {
    let path = "/proc/kcore";
    let mut buffer = [0u8; 16];
    match File::open(path).and_then(|mut file| file.read(&mut buffer)) {
        Ok(0) => refused(format!("read {path}: empty (masked)")),
        Ok(n) => allowed(format!("read {path}: read {n} bytes of kernel memory")),
        Err(error) => refused(format!("read {path}: {}", explain(&error))),
    }
}

// ANCHOR: read_disk
/// A block device the kernel lists, by number.
#[derive(Debug, PartialEq, Eq)]
struct Disk {
    major: u32,
    minor: u32,
    name: String,
}

/// The first device in /proc/partitions that holds data: loop and RAM
/// devices come first there but hold nothing until someone sets them up.
/// /proc/partitions is not namespaced, so it names the host's disks.
fn first_disk(partitions: &str) -> Option<Disk> {
    // "major minor  #blocks  name", a blank line, then one line a device.
    partitions.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [major, minor, _blocks, name] = fields[..] else {
            return None;
        };
        let idle = ["loop", "ram", "zram"].iter().any(|p| name.starts_with(p));
        (!idle).then_some(Disk {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
            name: name.to_string(),
        })
    })
}

/// A device number as mknodat(2) takes it: an `unsigned int` the kernel
/// decodes with `new_decode_dev` (minor's low byte, major, minor's rest).
fn encode_dev(major: u32, minor: u32) -> u32 {
    (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12)
}

/// Make a node for the host's first disk and read its first sector: root
/// who may do this reads (and could write) every file on the host. The
/// node is removed whatever happens. Where /proc/partitions lists nothing,
/// 8:0 (`sda`, the first SCSI or SATA disk) is the classic guess.
pub(crate) fn read_disk() -> Outcome {
    const NODE: &str = "/tmp/escape-disk";
    let disk = first_disk(&fs::read_to_string("/proc/partitions").unwrap_or_default())
        .unwrap_or_else(|| Disk {
            major: 8,
            minor: 0,
            name: "sda".to_string(),
        });
    let device = format!("{} ({}:{})", disk.name, disk.major, disk.minor);
    let _ = fs::remove_file(NODE);
    let (at_fdcwd, s_ifblk) = (-100, 0o060_000);
    let node = c_path(NODE);
    // SAFETY: `node` is a NUL-terminated path that outlives the call.
    let made = check(unsafe {
        sys::syscall(
            sys::SYS_MKNODAT,
            at_fdcwd as c_long,
            node.as_ptr(),
            (s_ifblk | 0o600) as c_long,
            encode_dev(disk.major, disk.minor) as c_long,
        )
    });
    if let Err(error) = made {
        return refused(format!("mknod {NODE} for {device}: {}", explain(&error)));
    }
    let mut sector = [0u8; 512];
    let outcome = match File::open(NODE) {
        Err(error) => refused(format!("open {NODE}, {device}: {}", explain(&error))),
        Ok(mut file) => match file.read(&mut sector) {
            Ok(0) => refused(format!("read {device}: nothing to read")),
            Ok(n) => allowed(format!("read {device}: its first {n} bytes")),
            Err(error) => refused(format!("read {device}: {}", explain(&error))),
        },
    };
    let _ = fs::remove_file(NODE);
    outcome
}
// ANCHOR_END: read_disk

/// Open a `cgroup.procs` (v2, or v1's `tasks`) for writing, never writing:
/// a pid written there moves that process into the cgroup, out from under
/// its limits. The top level, then one level down (v1 mounts one
/// hierarchy a directory).
pub(crate) fn open_cgroup_procs() -> Outcome {
    let root = PathBuf::from("/sys/fs/cgroup");
    let mut dirs = vec![root.clone()];
    if let Ok(entries) = fs::read_dir(&root) {
        let mut below: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        below.sort();
        dirs.extend(below.into_iter().filter(|p| p.is_dir()));
    }
    let files: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|dir| [dir.join("cgroup.procs"), dir.join("tasks")])
        .filter(|file| file.exists())
        .collect();
    let mut first_error = None;
    for file in &files {
        match OpenOptions::new().write(true).open(file) {
            Ok(_) => {
                return allowed(format!(
                    "open {} for writing: opened (wrote nothing)",
                    file.display()
                ))
            }
            Err(error) => {
                first_error.get_or_insert_with(|| {
                    format!("open {} for writing: {}", file.display(), explain(&error))
                });
            }
        }
    }
    refused(
        first_error
            .unwrap_or_else(|| format!("no cgroup.procs or tasks file under {}", root.display())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_disk_skips_loop_and_ram_devices() {
        let partitions = "major minor  #blocks  name\n\n   7        0      65536 loop0\n \
                          1        0       4096 ram0\n 259        0  500107608 nvme0n1\n \
                          259        1     524288 nvme0n1p1\n";
        assert_eq!(
            first_disk(partitions),
            Some(Disk {
                major: 259,
                minor: 0,
                name: "nvme0n1".to_string()
            })
        );
        assert_eq!(
            first_disk("major minor  #blocks  name\n\n   7 0 1 loop0\n"),
            None
        );
        assert_eq!(first_disk(""), None);
    }

    #[test]
    fn device_numbers_encode_as_the_kernel_decodes_them() {
        assert_eq!(encode_dev(8, 0), 0x800);
        assert_eq!(encode_dev(8, 17), 0x811);
        assert_eq!(encode_dev(259, 0), 0x10300);
        // Minors past 255 keep their low byte in place, the rest above major.
        assert_eq!(encode_dev(259, 300), 0x0011_032c);
    }
}
