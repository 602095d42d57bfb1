//! `rootfs_cycle LOWER... `: create a container's root file system over the
//! given lower layer directories and remove it again — three directories,
//! one overlay mount, one unmount — in a private mount namespace. For
//! bench/ch04-rootfs.sh: the cost must not depend on the image's size.

use std::fs;

use nix::mount::{mount, umount, MsFlags};
use nix::sched::{unshare, CloneFlags};

fn main() {
    let lowers: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    if lowers.is_empty() {
        eprintln!("usage: rootfs_cycle LOWER...");
        std::process::exit(2);
    }
    let base = std::env::temp_dir().join(format!("cratebox-cycle-{}", std::process::id()));
    let (upper, work, merged) = (base.join("upper"), base.join("work"), base.join("merged"));
    let result = (|| -> Result<(), Box<dyn std::error::Error>> {
        // Our own mount namespace: nothing of this shows on the host.
        unshare(CloneFlags::CLONE_NEWNS)?;
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )?;
        for dir in [&upper, &work, &merged] {
            fs::create_dir_all(dir)?;
        }
        let options = cratebox_image::overlay::overlay_options(&lowers, &upper, &work);
        mount(
            Some("overlay"),
            &merged,
            Some("overlay"),
            MsFlags::empty(),
            Some(options.as_str()),
        )?;
        umount(&merged)?;
        Ok(())
    })();
    let _ = fs::remove_dir_all(&base);
    if let Err(error) = result {
        eprintln!("rootfs_cycle: {error}");
        std::process::exit(1);
    }
}
