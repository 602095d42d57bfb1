//! Chapter 7: published ports, `-p [IP:][HOST:]CTR[/tcp|/udp]`, read as
//! docker reads them.

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP, the default.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// Its name, as nftables and docker write it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// One port to publish, as asked for: the host side may be left to the
/// host (no port: a free one is picked; no address: every address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortSpec {
    /// The host address it answers on (`None`: all of them).
    pub host_ip: Option<Ipv4Addr>,
    /// The host port (`None`: pick a free one).
    pub host_port: Option<u16>,
    /// The container's port.
    pub container_port: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
}

/// A `-p` that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid port mapping {given:?}: {why}; write it as [IP:][HOST:]CONTAINER[/tcp|/udp], e.g. 8080:80")]
pub struct PortError {
    /// What was written.
    pub given: String,
    /// What is wrong with it.
    pub why: String,
}

// ANCHOR: parse_publish
/// Read one `-p`: `80`, `8080:80`, `127.0.0.1:8080:80`, `127.0.0.1::80`,
/// each with an optional `/tcp` or `/udp`; a range of ports on both sides
/// (`8000-8001:80-81`) gives one mapping per port.
pub fn parse_publish(text: &str) -> Result<Vec<PortSpec>, PortError> {
    let fail = |why: &str| PortError {
        given: text.to_string(),
        why: why.to_string(),
    };
    let (ports, protocol) = match text.rsplit_once('/') {
        None => (text, Protocol::Tcp),
        Some((ports, "tcp")) => (ports, Protocol::Tcp),
        Some((ports, "udp")) => (ports, Protocol::Udp),
        Some(_) => return Err(fail("the protocol must be tcp or udp")),
    };
    if ports.starts_with('[') {
        return Err(fail("IPv6 addresses are not supported"));
    }
    let parts: Vec<&str> = ports.split(':').collect();
    let (host_ip, host_ports, container_ports) = match parts.as_slice() {
        [container] => (None, None, *container),
        [host, container] => (None, Some(*host), *container),
        [ip, host, container] => {
            let ip: Ipv4Addr = ip
                .parse()
                .map_err(|_| fail(&format!("{ip:?} is not an IPv4 address")))?;
            let host = (!host.is_empty()).then_some(*host);
            (Some(ip), host, *container)
        }
        _ => return Err(fail("too many colons")),
    };
    let container = range(container_ports).map_err(|why| fail(&why))?;
    let host = match host_ports {
        None => None,
        Some(ports) => Some(range(ports).map_err(|why| fail(&why))?),
    };
    if let Some(host) = host {
        if host.1 - host.0 != container.1 - container.0 {
            return Err(fail("the host and container ranges differ in length"));
        }
    }
    Ok((container.0..=container.1)
        .enumerate()
        .map(|(i, container_port)| PortSpec {
            host_ip,
            host_port: host.map(|(first, _)| first + i as u16),
            container_port,
            protocol,
        })
        .collect())
}
// ANCHOR_END: parse_publish

/// `80` or `8000-8010`: first and last, both in 1..=65535.
fn range(text: &str) -> Result<(u16, u16), String> {
    let port = |p: &str| match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("{p:?} is not a port (1 to 65535)")),
        Ok(n) => Ok(n),
    };
    match text.split_once('-') {
        None => port(text).map(|p| (p, p)),
        Some((first, last)) => {
            let (first, last) = (port(first)?, port(last)?);
            if first > last {
                return Err(format!("the range {text} runs backwards"));
            }
            Ok((first, last))
        }
    }
}

/// An image's `EXPOSE`d port as its config keeps it (`8080/tcp`), to be
/// published on a free host port by `-P`.
pub fn parse_exposed(text: &str) -> Option<PortSpec> {
    let (port, protocol) = match text.split_once('/') {
        None => (text, Protocol::Tcp),
        Some((port, "udp")) => (port, Protocol::Udp),
        Some((port, _)) => (port, Protocol::Tcp),
    };
    Some(PortSpec {
        host_ip: None,
        host_port: None,
        container_port: port.parse().ok().filter(|&p| p > 0)?,
        protocol,
    })
}

/// A port as published: every part known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Published {
    /// The host address (`0.0.0.0`: every address).
    pub host_ip: Ipv4Addr,
    /// The host port.
    pub host_port: u16,
    /// The container's port.
    pub container_port: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
}

impl fmt::Display for Published {
    /// As `docker port` prints it: `80/tcp -> 0.0.0.0:8080`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} -> {}:{}",
            self.container_port,
            self.protocol.name(),
            self.host_ip,
            self.host_port
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_mappings_as_docker_writes_them() {
        let cases = [
            "80",
            "8080:80",
            "127.0.0.1:8080:80",
            "127.0.0.1::80",
            "53:53/udp",
            "8000-8002:80-82",
            "8000-8002:80",
            "80/sctp",
            "0:80",
            "70000:80",
            "localhost:8080:80",
            "[::1]:8080:80",
            "1:2:3:4",
            "90-80:90-80",
        ];
        let results: Vec<String> = cases
            .iter()
            .map(|text| match parse_publish(text) {
                Ok(specs) => format!(
                    "{text}: {}",
                    specs
                        .iter()
                        .map(|s| format!(
                            "{}:{}->{}/{}",
                            s.host_ip.map(|ip| ip.to_string()).unwrap_or_default(),
                            s.host_port.map(|p| p.to_string()).unwrap_or_default(),
                            s.container_port,
                            s.protocol.name()
                        ))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                Err(e) => e.to_string(),
            })
            .collect();
        insta::assert_snapshot!(results.join("\n"));
    }

    #[test]
    fn exposed_ports_and_the_port_listing() {
        assert_eq!(
            parse_exposed("7000/tcp").map(|s| (s.container_port, s.protocol)),
            Some((7000, Protocol::Tcp))
        );
        assert_eq!(
            parse_exposed("53/udp").map(|s| s.protocol),
            Some(Protocol::Udp)
        );
        assert_eq!(parse_exposed("x/tcp"), None);
        let published = Published {
            host_ip: Ipv4Addr::UNSPECIFIED,
            host_port: 32768,
            container_port: 8080,
            protocol: Protocol::Tcp,
        };
        assert_eq!(published.to_string(), "8080/tcp -> 0.0.0.0:32768");
    }
}
