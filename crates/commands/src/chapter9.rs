//! Chapter 9's command set, and `cratebox`'s: chapter 8's, plus `info`.
//! From here on every container runs as docker runs it by default: 14
//! capabilities, no_new_privs, docker's seccomp profile, masked and
//! read-only paths. `run`'s `--privileged`, `--cap-add`, `--cap-drop`,
//! `--security-opt`, `--read-only` and `--device` change that.

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
        AllCommand::Eight(command) => chapter8::main_for(program, command),
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
