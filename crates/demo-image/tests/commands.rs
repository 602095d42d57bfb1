//! Both sources offer every command on the list: an image built each way
//! has each one where a container's PATH lookup finds it, and (as root)
//! each one really starts inside the image, libraries and all.

mod common;

use std::path::{Path, PathBuf};

use cratebox_demo_image::{build, find_command, Need, Source, COMMANDS};
use tempfile::TempDir;

use common::{assert_holds_only, busybox_source, have_root, run_chrooted};

/// The sources to check: the host's programs always; busybox when the host
/// has a static one (CI installs it, so there its absence is a failure).
fn sources() -> Vec<Source> {
    let mut sources = vec![Source::HostBinaries];
    sources.extend(busybox_source());
    sources
}

/// Build an image from `source` into a fresh temp dir: `<tmp>/image/rootfs`.
fn build_image(source: &Source) -> (TempDir, PathBuf) {
    let tmp = TempDir::new().expect("cannot create a temp dir");
    let rootfs = tmp.path().join("image/rootfs");
    build(&rootfs, source).unwrap_or_else(|e| panic!("{e}"));
    (tmp, rootfs)
}

/// Whether the host has `name` where the host source looks for it.
fn host_has(name: &str) -> bool {
    ["/bin", "/usr/bin", "/sbin", "/usr/sbin"]
        .iter()
        .any(|dir| Path::new(dir).join(name).is_file())
}

/// The commands an image from `source` must offer: every required one,
/// and every optional one the source has.
fn expected(source: &Source) -> Vec<&'static str> {
    COMMANDS
        .iter()
        .filter(|c| match (c.need, source) {
            (Need::Required, _) => true,
            // Debian's busybox-static has every applet on the list.
            (Need::Optional, Source::Busybox { .. }) => true,
            (Need::Optional, Source::HostBinaries) => host_has(c.name),
        })
        .map(|c| c.name)
        .collect()
}

#[test]
fn every_source_offers_every_command_on_the_list() {
    for source in sources() {
        let (tmp, rootfs) = build_image(&source);
        let missing: Vec<&str> = expected(&source)
            .into_iter()
            .filter(|name| find_command(&rootfs, name).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "an image from {source:?} lacks {missing:?}"
        );
        assert_holds_only(tmp.path(), &["image"]);
    }
}

#[test]
fn every_command_on_the_list_starts_inside_each_image() {
    if !have_root() {
        return;
    }
    for source in sources() {
        let (tmp, rootfs) = build_image(&source);
        for name in expected(&source) {
            let inside = find_command(&rootfs, name)
                .unwrap_or_else(|| panic!("an image from {source:?} lacks {name}"));
            let inside = inside.to_str().expect("PATH directories are UTF-8");
            // `--help` only prints: every one of these programs stops at
            // once with it, whatever it thinks of the option. What matters
            // is that it started: 126 or 127 (or a loader's complaint) mean
            // the file or a library it loads is missing in the image.
            let output = run_chrooted(&rootfs, inside, &["--help"]);
            let code = output.status.code();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                code != Some(126)
                    && code != Some(127)
                    && !stderr.contains("error while loading shared libraries"),
                "{inside} from {source:?} did not start: {output:?}"
            );
        }
        assert_holds_only(tmp.path(), &["image"]);
    }
}
