//! # cratebox-oci-runtime: cratebox's isolation behind the OCI runtime CLI
//!
//! Docker, podman, buildah and containerd do not start containers
//! themselves: they write an OCI *bundle* (a root file system and a
//! `config.json`) and run a *runtime* — runc, crun, youki — with `create`,
//! `start`, `state`, `kill` and `delete`. This crate is such a runtime,
//! built from the same kernel calls as chapters 2, 3 and 9. Each file holds
//! one part of it:
//!
//! | file | what it does |
//! |---|---|
//! | [`cli`] | runc's command line: global flags, subcommands, errors as one line (and JSON in `--log`) |
//! | [`bundle`] | reading `config.json` and refusing, by field name, what this runtime does not do |
//! | [`lifecycle`] | the spec's state machine: creating → created → running → stopped |
//! | [`state`] | what `create` leaves under `--root` for the other commands |
//! | [`namespaces`] | `linux.namespaces` → what to unshare and what to join, in order |
//! | [`mount_options`] | a mount's `options` → mount(2) flags, propagation and data |
//! | [`resources`] | `linux.resources` → the files of a cgroup, v1 or v2 |
//! | [`cgroup`] | `linux.cgroupsPath` → the container's cgroup directories, made, written, removed |
//! | [`device_filter`] | device rules on cgroup v2: an eBPF program attached to the cgroup |
//! | [`hooks`] | the six kinds of hook, with the container's state on their stdin |
//! | [`create`] | `create`: the runtime's side of starting a container |
//! | [`container`] | the container's side: namespaces, mounts, devices, pivot_root |
//! | [`mounts`] | each entry of `mounts`, under the container's root |
//! | [`console`] | `process.terminal`: a pseudo-terminal, its master sent over the console socket |
//! | [`process`] | the last steps before execve: limits, user, capabilities, seccomp |
//! | [`exec`] | `exec`: another process in a running container |
//! | [`operations`] | `start`, `state`, `kill`, `delete`, `ps` |
//! | [`features`] | `features`: what this runtime supports, as JSON |
//!
//! The pure parts (namespaces, mount options, cgroup files, the state
//! machine, the checks on `config.json`) are snapshot-tested; the rest is
//! tested by running real containers as root, under podman and buildah and
//! under the OCI runtime validation suite (see chapter 10's tests).

pub mod bundle;
pub mod cgroup;
pub mod cli;
pub mod console;
pub mod container;
pub mod create;
pub mod device_filter;
pub mod devices;
pub mod error;
pub mod exec;
pub mod features;
pub mod hooks;
pub mod lifecycle;
pub mod mount_options;
pub mod mounts;
pub mod namespaces;
pub mod operations;
pub mod process;
pub mod resources;
pub mod state;
pub mod sync;

pub use error::RuntimeError;

/// The version of the runtime spec this runtime implements.
pub const OCI_VERSION: &str = "1.2.0";
