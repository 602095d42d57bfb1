//! # Exercise 21: the nftables rule that publishes a port
//!
//! ```text
//! tcp dport 8080 dnat to 172.17.0.2:80                      -p 8080:80
//! ip daddr 127.0.0.1 udp dport 5353 dnat to 172.17.0.3:53    -p 127.0.0.1:5353:53/udp
//! ```
//!
//! Write [`port_line`]. Run `cargo ex check 21_port_rule` until it passes.

// The parameters are unused until the `todo!()` is replaced.
#![allow(unused_variables)]

pub use cratebox_network::ports::Protocol;
pub use cratebox_network::rules::PortRule;

/// The rule, in nft's language, that sends a packet for the host's port
/// to the container's address and port (DNAT); only for one host address
/// when the port was published on one (not on 0.0.0.0 or on all).
pub fn port_line(rule: &PortRule) -> String {
    // TODO: "ip daddr ADDRESS " first, for a host_ip that is Some and not
    //       unspecified; then "{protocol} dport {host_port} dnat to
    //       {container}:{container_port}". rule.protocol.name() gives
    //       "tcp" or "udp".
    todo!("one published port as an nft rule")
}
