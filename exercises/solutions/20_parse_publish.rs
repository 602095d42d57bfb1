//! Exercise 20, solved.

use std::net::Ipv4Addr;

pub use cratebox_network::ports::{PortSpec, Protocol};

/// One `-p` value, as the ports it publishes.
pub fn parse_publish(text: &str) -> Result<Vec<PortSpec>, String> {
    let (ports, protocol) = match text.rsplit_once('/') {
        None => (text, Protocol::Tcp),
        Some((ports, "tcp")) => (ports, Protocol::Tcp),
        Some((ports, "udp")) => (ports, Protocol::Udp),
        Some(_) => return Err(format!("{text}: the protocol must be tcp or udp")),
    };
    let parts: Vec<&str> = ports.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [c] => (None, None, *c),
        [h, c] => (None, Some(*h), *c),
        [ip, h, c] => {
            let ip: Ipv4Addr = ip
                .parse()
                .map_err(|_| format!("{text}: {ip} is no IPv4 address"))?;
            (Some(ip), (!h.is_empty()).then_some(*h), *c)
        }
        _ => return Err(format!("{text}: too many colons")),
    };
    let container = range(container).map_err(|why| format!("{text}: {why}"))?;
    let host = host
        .map(range)
        .transpose()
        .map_err(|why| format!("{text}: {why}"))?;
    if let Some(host) = host {
        if host.1 - host.0 != container.1 - container.0 {
            return Err(format!("{text}: the ranges differ in length"));
        }
    }
    Ok((container.0..=container.1)
        .enumerate()
        .map(|(i, port)| PortSpec {
            host_ip: ip,
            host_port: host.map(|(first, _)| first + i as u16),
            container_port: port,
            protocol,
        })
        .collect())
}

fn range(text: &str) -> Result<(u16, u16), String> {
    let port = |p: &str| match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("{p:?} is not a port")),
        Ok(n) => Ok(n),
    };
    match text.split_once('-') {
        None => port(text).map(|p| (p, p)),
        Some((a, b)) => {
            let (a, b) = (port(a)?, port(b)?);
            if a > b {
                return Err(format!("{text} runs backwards"));
            }
            Ok((a, b))
        }
    }
}
