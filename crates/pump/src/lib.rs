//! Chapter 6: the pump, what stays with a detached container.
//!
//! A detached container needs a process that lives as long as it does:
//! to hold its output pipes (or its terminal) and copy them into the log,
//! to serve `attach`, to start health checks, to notice the end. podman
//! has conmon for that, a small C program. cratebox's supervisor does the
//! heavy work (start, record, restart, teardown) as the full `cratebox`
//! program, then *becomes* this one with execve(2) while the container
//! runs, and becomes `cratebox` again when it ended:
//!
//! ```text
//! cratebox __supervise ID ──execve──► cratebox-pump ──execve──► cratebox __supervise ID --exited CODE
//!   starts the container               pumps output              records the exit, cleans up,
//!   (its init: our child)              into the log              restarts (and pumps again)
//! ```
//!
//! execve keeps the pid, the children and every descriptor not marked
//! close-on-exec, so the container's init stays our child and its pipes
//! stay open across both changes.
//!
//! The pump is built without the standard library and without a C
//! library (`src/start.rs` is its entry point): it makes its system calls
//! itself ([`sys`]). That is what makes it small: a static binary of a
//! few kilobytes, resident in a few dozen.

#![no_std]

pub mod args;
pub mod frames;
pub mod log;
pub mod pump;
#[cfg(target_arch = "x86_64")]
pub mod sys;
#[cfg(not(target_arch = "x86_64"))]
compile_error!("the pump makes x86-64 Linux system calls: add this architecture's to src/sys.rs");
