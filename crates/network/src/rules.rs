//! Chapter 7: cratebox's firewall rules, all in one nftables table of its
//! own, `ip cratebox`, written whole each time something changes. nft(8)
//! applies a file as one transaction, so the table is never seen half
//! made, and no other table or chain is touched.
//!
//! What the rules do:
//!
//! - **masquerade**: a container's packet to the world leaves with the
//!   host's address, so that replies find their way back;
//! - **published ports**: a packet to one of the host's addresses and a
//!   published port gets the container's address instead (DNAT), both
//!   when it comes from outside (prerouting) and when the host itself
//!   sends it (output: the trap of DNAT in prerouting alone);
//! - **localhost**: a connection from the host to `127.0.0.1:PORT` is
//!   masqueraded on its way into the bridge, since a container could not
//!   answer to 127.0.0.1 (the bridge also needs `route_localnet`);
//! - **hairpin**: a container reaching a published port through the host
//!   is masqueraded too, or the answer would come straight from the other
//!   container and be refused;
//! - **isolation**: nothing is forwarded from one cratebox network's
//!   bridge to another's, except to published ports.

use std::fmt::Write;
use std::net::Ipv4Addr;

use crate::ports::Protocol;
use crate::subnet::Subnet;

/// The table's name (family `ip`).
pub const TABLE: &str = "cratebox";

/// A network the rules serve: its bridge and subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRule {
    /// The bridge's name.
    pub bridge: String,
    /// Its subnet.
    pub subnet: Subnet,
}

/// A published port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRule {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// The host address it answers on (`None`: every local address).
    pub host_ip: Option<Ipv4Addr>,
    /// The host port.
    pub host_port: u16,
    /// The container's address.
    pub container: Ipv4Addr,
    /// The container's port.
    pub container_port: u16,
}

// ANCHOR: port_line
/// The rule that publishes one port: to the container's address and
/// port, for packets to the host's port (on one of its addresses only,
/// when the port was published on one).
pub fn port_line(port: &PortRule) -> String {
    let only = match port.host_ip {
        Some(ip) if !ip.is_unspecified() => format!("ip daddr {ip} "),
        _ => String::new(),
    };
    format!(
        "{only}{} dport {} dnat to {}:{}",
        port.protocol.name(),
        port.host_port,
        port.container,
        port.container_port
    )
}
// ANCHOR_END: port_line

// ANCHOR: ruleset
/// The nft(8) script that makes the table what `networks` and `ports`
/// need: it creates the table if missing, deletes it, and (unless there is
/// nothing to serve) makes it anew, in one transaction.
// ANCHOR: ruleset_nat
pub fn ruleset(networks: &[NetworkRule], ports: &[PortRule]) -> String {
    let mut s = format!("table ip {TABLE}\ndelete table ip {TABLE}\n");
    if networks.is_empty() {
        return s;
    }
    let _ = writeln!(s, "table ip {TABLE} {{");
    // Published ports: only for packets to one of the host's addresses.
    s.push_str(
        "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n",
    );
    s.push_str("\t\tfib daddr type local jump published\n\t}\n");
    s.push_str("\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n");
    s.push_str("\t\tfib daddr type local jump published\n\t}\n");
    s.push_str("\tchain published {\n");
    for port in ports {
        let _ = writeln!(s, "\t\t{}", port_line(port));
    }
    s.push_str("\t}\n");
    s.push_str(
        "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n",
    );
    for net in networks {
        let (bridge, subnet) = (&net.bridge, net.subnet);
        let _ = writeln!(
            s,
            "\t\tip saddr {subnet} oifname != \"{bridge}\" masquerade"
        );
        let _ = writeln!(
            s,
            "\t\toifname \"{bridge}\" ip saddr 127.0.0.0/8 masquerade"
        );
        let _ = writeln!(
            s,
            "\t\toifname \"{bridge}\" ip saddr {subnet} ct status dnat masquerade"
        );
    }
    s.push_str("\t}\n");
    // ANCHOR_END: ruleset_nat
    s.push_str("\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
    // A published port is for everyone, containers of other networks too.
    s.push_str("\t\tct status dnat accept\n");
    for from in networks {
        for to in networks.iter().filter(|to| to.bridge != from.bridge) {
            let _ = writeln!(
                s,
                "\t\tiifname \"{}\" oifname \"{}\" drop",
                from.bridge, to.bridge
            );
        }
    }
    s.push_str("\t}\n}\n");
    s
}
// ANCHOR_END: ruleset

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_networks_and_two_ports() {
        let networks = [
            NetworkRule {
                bridge: "cratebox0".into(),
                subnet: "172.17.0.0/16".parse().unwrap_or_else(|e| panic!("{e}")),
            },
            NetworkRule {
                bridge: "cbr-1a2b3c".into(),
                subnet: "172.18.0.0/16".parse().unwrap_or_else(|e| panic!("{e}")),
            },
        ];
        let ports = [
            PortRule {
                protocol: Protocol::Tcp,
                host_ip: None,
                host_port: 8080,
                container: Ipv4Addr::new(172, 17, 0, 2),
                container_port: 80,
            },
            PortRule {
                protocol: Protocol::Udp,
                host_ip: Some(Ipv4Addr::LOCALHOST),
                host_port: 5353,
                container: Ipv4Addr::new(172, 18, 0, 3),
                container_port: 53,
            },
        ];
        insta::assert_snapshot!(ruleset(&networks, &ports));
    }

    #[test]
    fn no_network_no_table() {
        assert_eq!(
            ruleset(&[], &[]),
            "table ip cratebox\ndelete table ip cratebox\n"
        );
    }
}
