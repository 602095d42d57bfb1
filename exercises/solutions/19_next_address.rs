//! Exercise 19, solved.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

pub use cratebox_network::subnet::Subnet;

/// The lowest free address for a container.
pub fn next_free(subnet: &Subnet, used: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let first = u32::from(subnet.gateway()) + 1;
    let last = u32::from(subnet.broadcast()) - 1;
    (first..=last)
        .map(Ipv4Addr::from)
        .find(|address| !used.contains(address))
}
