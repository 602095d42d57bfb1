//! Exercise 21, solved.

pub use cratebox_network::ports::Protocol;
pub use cratebox_network::rules::PortRule;

/// One published port as an nft rule.
pub fn port_line(rule: &PortRule) -> String {
    let only = match rule.host_ip {
        Some(ip) if !ip.is_unspecified() => format!("ip daddr {ip} "),
        _ => String::new(),
    };
    format!(
        "{only}{} dport {} dnat to {}:{}",
        rule.protocol.name(),
        rule.host_port,
        rule.container,
        rule.container_port
    )
}
