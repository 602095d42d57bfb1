//! # Exercise 20: docker's `-p`, read into ports to publish
//!
//! ```text
//! -p 8080:80              host port 8080 → the container's 80, TCP
//! -p 127.0.0.1:8080:80    the same, on the host's 127.0.0.1 only
//! -p 80                   the container's 80, on a port the host picks
//! -p 5353:53/udp          UDP
//! -p 8000-8001:80-81      two ports
//! ```
//!
//! Write [`parse_publish`]. Run `cargo ex check 20_parse_publish` until it
//! passes.

// The parameters are unused until the `todo!()` is replaced.
#![allow(unused_variables)]

pub use cratebox_network::ports::{PortSpec, Protocol};

/// One `-p` value, as the ports it publishes; the error is one line that
/// says what is wrong.
pub fn parse_publish(text: &str) -> Result<Vec<PortSpec>, String> {
    // TODO: take a "/tcp" or "/udp" off the end (rsplit_once('/')), then
    //       split the rest on ':' into 1, 2 or 3 parts, and read each port
    //       (or range "A-B") as a number from 1 to 65535.
    todo!("read one -p value")
}
