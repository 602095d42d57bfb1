//! # Exercise 19: a network's next free address
//!
//! ```text
//! 10.1.0.0/29   .0 the network   .1 the gateway (the bridge)   .2 to .6 containers   .7 broadcast
//! ```
//!
//! Write [`next_free`]. Run `cargo ex check 19_next_address` until it
//! passes.

// The parameters are unused until the `todo!()` is replaced.
#![allow(unused_variables)]

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

pub use cratebox_network::subnet::Subnet;

/// The lowest address of `subnet` a container may get that is not in
/// `used`: after the gateway, before the broadcast address; `None` when
/// every one is taken.
pub fn next_free(subnet: &Subnet, used: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    // TODO: an Ipv4Addr is a u32 in disguise: u32::from(address) and
    //       Ipv4Addr::from(number). Walk from the gateway + 1 to the
    //       broadcast - 1 and take the first one not used.
    todo!("the lowest free address")
}
