//! Chapter 9's command set, and `cratebox`'s: chapter 8's, plus `info`.
//! From here on every container runs as docker runs it by default: 14
//! capabilities, no_new_privs, docker's seccomp profile, masked and
//! read-only paths. `run`'s `--privileged`, `--cap-add`, `--cap-drop`,
//! `--security-opt`, `--read-only` and `--device` change that.
//!
//! And a user who is not root may run it: it then works as root of that
//! user's own user namespace ([`cratebox_sandbox::rootless`]), with its
//! state in `$XDG_DATA_HOME/cratebox`, containers on `--network none` (or
//! `slirp4netns`), and limits only in a cgroup v2 subtree delegated to it.

use clap::Subcommand;

use crate::chapter6::exit_with;
use crate::chapter8;

/// Everything `cratebox` offers.
#[derive(Debug, Subcommand)]
pub enum AllCommand {
    #[command(flatten)]
    Eight(chapter8::AllCommand),
    /// Show what this host supports (cgroups, seccomp, user namespaces) and what the store holds
    Info,
}

/// The `main` of `cratebox` and `ch09-hardening`.
pub fn main_for(program: &str, command: AllCommand) -> ! {
    match command {
        AllCommand::Eight(command) => {
            if !nix::unistd::geteuid().is_root() {
                if let Err(error) = become_rootless() {
                    exit_with(program, false, Err(error))
                }
            }
            chapter8::main_for(program, command)
        }
        // `info` tells a user who is not root what the host offers, too;
        // the store's counts need root.
        AllCommand::Info => {
            let engine = nix::unistd::geteuid()
                .is_root()
                .then(crate::open_engine)
                .transpose();
            let outcome = engine.and_then(|engine| crate::info::info(engine.as_ref()));
            exit_with(program, false, outcome)
        }
    }
}

// ANCHOR: become_rootless
/// Run as root of this user's own user namespace: the state in
/// `$XDG_DATA_HOME/cratebox` (unless `CRATEBOX_ROOT` says otherwise),
/// containers on `--network none` by default (a bridge needs root on the
/// host), and fuse-overlayfs for the layers on a kernel before 5.11.
fn become_rootless() -> anyhow::Result<()> {
    use anyhow::Context;
    use cratebox_sandbox::overlay::{FUSE_OVERLAYFS, OVERLAY_ENV};
    use cratebox_sandbox::rootless;
    // A container's root is an overlay mount, which Linux allows in a
    // user namespace since 5.11.
    let kernel = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    // Before, fuse-overlayfs does it in user space, when it is there.
    if !crate::info::at_least(&kernel, (5, 11)) && std::env::var_os(OVERLAY_ENV).is_none() {
        if !std::path::Path::new("/usr/bin/fuse-overlayfs").exists() {
            anyhow::bail!(
                "rootless containers need Linux 5.11 or later, which mounts overlayfs in a user namespace (this kernel is {kernel}), or fuse-overlayfs (`sudo apt install fuse-overlayfs`)"
            );
        }
        eprintln!(
            "{}: Linux {kernel} mounts no overlayfs in a user namespace: using fuse-overlayfs",
            crate::program()
        );
        std::env::set_var(OVERLAY_ENV, FUSE_OVERLAYFS);
    }
    let given = std::env::var_os("CRATEBOX_ROOT").filter(|root| !root.is_empty());
    if given.is_none() {
        let data = rootless::data_dir()
            .context("rootless cratebox keeps its state in $XDG_DATA_HOME or $HOME: set one")?;
        std::env::set_var("CRATEBOX_ROOT", data);
    }
    rootless::enter(&rootless::runtime_dir()?)?;
    crate::run6::set_default_network(cratebox_runtime::net::NetworkMode::None);
    Ok(())
}
// ANCHOR_END: become_rootless
