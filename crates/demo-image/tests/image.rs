//! Building both kinds of image: what they contain, and proof that each one
//! actually runs programs when it is the root directory.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use cratebox_demo_image::{
    build, elf, verify, DemoError, EntryKind, Manifest, ManifestError, Source, BREAKOUT_PATH,
    ESCAPE_PATH, MEMHOG_PATH, PROBE_PATH,
};
use tempfile::TempDir;

use common::{assert_holds_only, busybox_source, have_root, run_chrooted};

/// Build an image from `source` into a fresh temp dir: `<tmp>/image/rootfs`.
fn build_image(source: &Source) -> (TempDir, PathBuf, Manifest) {
    let tmp = TempDir::new().expect("cannot create a temp dir");
    let rootfs = tmp.path().join("image/rootfs");
    let manifest = build(&rootfs, source).unwrap_or_else(|e| panic!("{e}"));
    (tmp, rootfs, manifest)
}

/// The part of an image that does not depend on the host: every directory
/// outside the library tree, the /etc files with contents, the tools and
/// /bin/sh with their kinds and modes.
fn skeleton(rootfs: &Path, manifest: &Manifest) -> String {
    let host_specific = |path: &Path| {
        ["/lib", "/lib64", "/usr/lib", "/usr/lib64"]
            .iter()
            .any(|dir| path.starts_with(dir))
    };
    let mut out = format!("source: {:?}\n", manifest.source);
    for entry in &manifest.entries {
        let path = entry.path.display();
        match entry.kind {
            EntryKind::Dir if !host_specific(&entry.path) => {
                out += &format!("dir  {:o} {path}\n", entry.mode)
            }
            EntryKind::File if entry.path.starts_with("/etc") => {
                let on_disk = rootfs.join(entry.path.strip_prefix("/").unwrap_or(&entry.path));
                let text = fs::read_to_string(&on_disk)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", on_disk.display()));
                out += &format!("file {:o} {path}\n", entry.mode);
                for line in text.lines() {
                    out += &format!("     | {line}\n");
                }
            }
            _ => {}
        }
    }
    for inside in [
        PROBE_PATH,
        BREAKOUT_PATH,
        MEMHOG_PATH,
        ESCAPE_PATH,
        "/bin/sh",
    ] {
        let entry = manifest
            .entries
            .iter()
            .find(|e| e.path == Path::new(inside))
            .unwrap_or_else(|| panic!("{inside} is not in the manifest"));
        let target = entry
            .target
            .as_ref()
            .map(|t| format!(" -> {}", t.display()))
            .unwrap_or_default();
        out += &format!("{:?} {:o} {inside}{target}\n", entry.kind, entry.mode);
    }
    out
}

#[test]
fn busybox_image_has_the_skeleton() {
    let Some(source) = busybox_source() else {
        return;
    };
    let (tmp, rootfs, manifest) = build_image(&source);
    insta::assert_snapshot!(skeleton(&rootfs, &manifest));
    verify(&rootfs).unwrap();
    // Every applet is an absolute link to /bin/busybox, resolved inside.
    let ls = fs::read_link(rootfs.join("bin/ls")).unwrap();
    assert_eq!(ls, Path::new("/bin/busybox"));
    assert_holds_only(tmp.path(), &["image"]);
    assert_holds_only(&tmp.path().join("image"), &["manifest.json", "rootfs"]);
}

#[test]
fn host_image_has_the_skeleton() {
    let (tmp, rootfs, manifest) = build_image(&Source::HostBinaries);
    insta::assert_snapshot!(skeleton(&rootfs, &manifest));
    verify(&rootfs).unwrap();
    assert_holds_only(tmp.path(), &["image"]);
}

#[test]
fn host_image_holds_every_library_the_shell_loads() {
    let (tmp, rootfs, _) = build_image(&Source::HostBinaries);
    let shell = fs::canonicalize("/bin/sh").unwrap();
    let libraries = elf::dependencies(&shell).unwrap();
    assert!(
        !libraries.is_empty(),
        "the host's sh is expected to be dynamic"
    );
    for library in libraries {
        // Looked up through the image's own symlinks, as the loader will.
        let inside = rootfs.join(library.strip_prefix("/").unwrap());
        let metadata = fs::metadata(&inside)
            .unwrap_or_else(|e| panic!("{} is missing from the image: {e}", library.display()));
        assert_eq!(metadata.len(), fs::metadata(&library).unwrap().len());
        let real = fs::canonicalize(&inside).unwrap();
        assert!(
            real.starts_with(fs::canonicalize(&rootfs).unwrap()),
            "{} resolves outside the image, to {}",
            library.display(),
            real.display()
        );
    }
    let sh = rootfs.join("bin/sh");
    assert!(sh.symlink_metadata().unwrap().is_file());
    assert_eq!(sh.metadata().unwrap().permissions().mode() & 0o111, 0o111);
    assert_holds_only(tmp.path(), &["image"]);
}

#[test]
fn busybox_image_runs_a_shell_and_the_probe() {
    let Some(source) = busybox_source() else {
        return;
    };
    if !have_root() {
        return;
    }
    let (tmp, rootfs, _) = build_image(&source);
    let output = run_chrooted(
        &rootfs,
        "/bin/sh",
        &["-c", "echo hello from $(cat /etc/os-release | head -1)"],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "hello from NAME=\"cratebox demo image\"\n"
    );

    // The probe is static: it runs in an image with no C library at all.
    // A plain chroot mounts nothing, so it only finds /proc missing.
    let output = run_chrooted(&rootfs, PROBE_PATH, &[]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "proc: not mounted (nothing more to report)\n"
    );
    assert_holds_only(tmp.path(), &["image"]);
}

#[test]
fn escape_runs_in_an_image_without_a_c_library() {
    let Some(source) = busybox_source() else {
        return;
    };
    if !have_root() {
        return;
    }
    let (tmp, rootfs, _) = build_image(&source);
    // Only the list: the attempts themselves are chapter 9's tests, in a
    // container; here the process would be the host's root in a chroot.
    let output = run_chrooted(&rootfs, ESCAPE_PATH, &["--list"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "mount\nmodule\nsysrq\nkcore\nkeyctl\nptrace\nuserns\nraw-socket\nmknod\ntime\nreboot\nbpf\ncgroup\n"
    );
    assert_holds_only(tmp.path(), &["image"]);
}

#[test]
fn host_image_runs_a_shell_and_its_commands() {
    if !have_root() {
        return;
    }
    let (tmp, rootfs, _) = build_image(&Source::HostBinaries);
    let output = run_chrooted(
        &rootfs,
        "/bin/sh",
        &[
            "-c",
            "echo hello from $(cat /etc/os-release | head -1); ls /usr/local/bin",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "hello from NAME=\"cratebox demo image\"\nbreakout\nescape\nmemhog\nprobe\n"
    );
    assert_holds_only(tmp.path(), &["image"]);
}

#[test]
fn build_refuses_an_existing_rootfs() {
    let tmp = TempDir::new().unwrap();
    let rootfs = tmp.path().join("rootfs");
    fs::create_dir(&rootfs).unwrap();
    let error = build(&rootfs, &Source::HostBinaries).unwrap_err();
    assert!(matches!(error, DemoError::Exists { .. }), "{error}");
    assert!(error.to_string().contains(&rootfs.display().to_string()));
    assert_holds_only(tmp.path(), &["rootfs"]);
    assert_holds_only(&rootfs, &[]);
}

#[test]
fn verify_notices_a_changed_file() {
    let (tmp, rootfs, _) = build_image(&Source::HostBinaries);
    fs::write(rootfs.join("etc/hostname"), "someone-else\n").unwrap();
    let error = verify(&rootfs).unwrap_err();
    assert!(
        matches!(
            error,
            DemoError::Damaged {
                source: ManifestError::Size { .. },
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("/etc/hostname"), "{error}");
    assert_holds_only(tmp.path(), &["image"]);
}

#[test]
fn verify_notices_a_replaced_link() {
    let Some(source) = busybox_source() else {
        return;
    };
    let (tmp, rootfs, _) = build_image(&source);
    let ls = rootfs.join("bin/ls");
    fs::remove_file(&ls).unwrap();
    std::os::unix::fs::symlink("/somewhere/else", &ls).unwrap();
    let error = verify(&rootfs).unwrap_err();
    assert!(
        matches!(
            error,
            DemoError::Damaged {
                source: ManifestError::Target { .. },
                ..
            }
        ),
        "{error}"
    );
    assert_holds_only(tmp.path(), &["image"]);
}
