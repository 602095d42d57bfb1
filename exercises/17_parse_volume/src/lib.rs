//! # Exercise 17: docker's `-v`, read into a mount
//!
//! ```text
//! -v /srv/site:/www:ro    a bind mount of a host directory, read-only
//! -v data:/var/lib/db     the named volume "data"
//! -v /var/cache           an anonymous volume (a new one, named for you)
//! ```
//!
//! Write [`parse_volume`]. Run `cargo ex check 17_parse_volume` until it
//! passes.

// The parameters are unused until the `todo!()` is replaced.
#![allow(unused_variables)]

pub use cratebox_runtime::containers::valid_name;
pub use cratebox_runtime::volumes::{MountKind, MountSpec};

/// `-v SOURCE:TARGET[:ro|rw]` or `-v TARGET`, as a [`MountSpec`]:
///
/// - one, two or three parts separated by `:`; more is an error;
/// - TARGET must start with `/`;
/// - the mode is `ro` (read-only), `rw` or absent (both writable);
///   anything else is an error;
/// - a SOURCE starting with `/` is a host path: `MountKind::Bind` with
///   `create: true`; otherwise it must be a `valid_name`:
///   `MountKind::Volume` with `anonymous: false`;
/// - no SOURCE: `MountKind::Volume` named `anonymous_name`, `anonymous: true`.
///
/// The error is one line saying what is wrong.
pub fn parse_volume(value: &str, anonymous_name: &str) -> Result<MountSpec, String> {
    // TODO: split on ':' and match on the parts (a slice pattern such as
    //       [source, target, mode] reads well), then check and build.
    todo!("parse one -v value")
}
