//! Exercise 21's tests: published ports as rules, compared with the ones
//! cratebox writes into its table.

use std::net::Ipv4Addr;

#[cfg(not(feature = "solution"))]
use ex21_port_rule as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/21_port_rule.rs"]
mod subject;

use cratebox_network::rules as real;
use subject::{port_line, PortRule, Protocol};

#[test]
fn each_published_port_becomes_one_dnat_rule() {
    let rules = [
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
            container: Ipv4Addr::new(172, 17, 0, 3),
            container_port: 53,
        },
        PortRule {
            protocol: Protocol::Tcp,
            host_ip: Some(Ipv4Addr::UNSPECIFIED),
            host_port: 9000,
            container: Ipv4Addr::new(10, 77, 0, 2),
            container_port: 9000,
        },
    ];
    let mut lines = Vec::new();
    for rule in &rules {
        let mine = port_line(rule);
        assert_eq!(mine, real::port_line(rule), "{rule:?}");
        lines.push(mine);
    }
    insta::assert_snapshot!(lines.join("\n"));
}
