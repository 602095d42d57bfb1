//! Chapter 7: what a network needs on the host, beside its state: the
//! bridge (made with the first container, removed with the last), the
//! bridge's two kernel settings, a container plugged in, and the
//! firewall table applied with nft(8).

use std::io::Write;
use std::net::Ipv4Addr;
use std::os::fd::BorrowedFd;
use std::path::Path;
use std::process::{Command, Stdio};

use thiserror::Error;

use crate::links::{Netlink, NetlinkError};
use crate::store::Network;
use crate::subnet::Subnet;

/// Something the host refused.
#[derive(Debug, Error)]
pub enum HostError {
    /// A netlink request.
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
    /// A kernel setting.
    #[error("cannot set {path}: {source}")]
    Setting {
        /// The file under /proc/sys.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// nft(8) is missing or refused the rules.
    #[error("cannot apply cratebox's nftables table: {0}")]
    Firewall(String),
}

// ANCHOR: ensure_bridge
/// Make `network`'s bridge unless it is there: the link, the gateway's
/// address, up, and `route_localnet` on it, so that a connection from the
/// host to 127.0.0.1 may be sent on to a container (the rules masquerade
/// it on the way). And, as docker does, IP forwarding for the host when
/// it is off: a container's packets, and the answers to them, cross from
/// one interface to another, which a host that does not forward drops.
pub fn ensure_bridge(netlink: &mut Netlink, network: &Network) -> Result<u32, HostError> {
    if let Some(index) = netlink.index_of(&network.bridge)? {
        return Ok(index);
    }
    let index = netlink.add_bridge(&network.bridge)?;
    netlink.add_address(index, network.gateway, network.subnet.prefix())?;
    netlink.set_up(index, None)?;
    let localnet = format!("/proc/sys/net/ipv4/conf/{}/route_localnet", network.bridge);
    set(&localnet)?;
    let forward = "/proc/sys/net/ipv4/ip_forward";
    if std::fs::read_to_string(forward).map_or(true, |v| v.trim() != "1") {
        set(forward)?;
    }
    Ok(index)
}

/// Write 1 to a kernel setting.
fn set(path: &str) -> Result<(), HostError> {
    std::fs::write(path, "1").map_err(|source| HostError::Setting {
        path: path.to_string(),
        source,
    })
}
// ANCHOR_END: ensure_bridge

// ANCHOR: plug
/// A container's end of a network.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    /// The name of the veth's end on the host (at most 15 bytes).
    pub host_end: &'a str,
    /// Its name in the container: `eth0`, `eth1`...
    pub inside: &'a str,
    /// The container's address.
    pub address: Ipv4Addr,
    /// Whether the container's default route goes this way.
    pub default_route: bool,
}

/// Plug a container into `network`, whose bridge is `bridge`: a veth
/// pair whose far end is born in the container's namespace `netns`, the
/// container's address on it, and maybe its default route.
pub fn plug(
    netlink: &mut Netlink,
    network: &Network,
    bridge: u32,
    netns: BorrowedFd<'_>,
    end: &Endpoint<'_>,
) -> Result<(), HostError> {
    let veth = netlink.add_veth(end.host_end, end.inside, netns)?;
    netlink.set_up(veth, Some(bridge))?;
    let mut inside = Netlink::open_in(netns)?;
    let index = inside.index_of(end.inside)?.ok_or_else(|| NetlinkError {
        what: format!("find {} in the container", end.inside),
        errno: nix::errno::Errno::ENODEV,
    })?;
    inside.add_address(index, end.address, network.subnet.prefix())?;
    inside.set_up(index, None)?;
    if end.default_route {
        inside.add_default_route(index, network.gateway)?;
    }
    Ok(())
}
// ANCHOR_END: plug

/// Remove the bridge of `network` (its veths went with their containers).
pub fn remove_bridge(netlink: &mut Netlink, network: &Network) -> Result<(), HostError> {
    if let Some(index) = netlink.index_of(&network.bridge)? {
        netlink.delete_link(index)?;
    }
    Ok(())
}

/// Apply an nft(8) script (see [`crate::rules::ruleset`]) in one
/// transaction.
pub fn apply_rules(script: &str) -> Result<(), HostError> {
    let mut nft = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            HostError::Firewall(format!(
                "cannot run nft ({e}): install the nftables package"
            ))
        })?;
    if let Some(mut stdin) = nft.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| HostError::Firewall(e.to_string()))?;
    }
    let out = nft
        .wait_with_output()
        .map_err(|e| HostError::Firewall(e.to_string()))?;
    if out.status.success() {
        Ok(())
    } else {
        let said = String::from_utf8_lossy(&out.stderr);
        Err(HostError::Firewall(
            said.lines().next().unwrap_or("").to_string(),
        ))
    }
}

/// The subnets the host routes to (from /proc/net/route), which a new
/// network must not hide.
pub fn host_routes() -> Vec<Subnet> {
    std::fs::read_to_string(Path::new("/proc/net/route"))
        .map(|table| parse_routes(&table))
        .unwrap_or_default()
}

/// Read /proc/net/route: destination and mask in hex, little-endian;
/// the default route (mask 0) is no subnet to avoid.
fn parse_routes(table: &str) -> Vec<Subnet> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let destination = u32::from_str_radix(fields.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(fields.get(7)?, 16).ok()?;
            let prefix = mask.count_ones() as u8;
            if prefix == 0 || prefix > 30 {
                return None;
            }
            let network = Ipv4Addr::from(destination.swap_bytes());
            Subnet::new(network, prefix).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_read_from_proc() {
        let table =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
            eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
            cni0\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n\
            eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        let routes: Vec<String> = parse_routes(table).iter().map(|s| s.to_string()).collect();
        assert_eq!(routes, ["10.88.0.0/16", "192.0.2.0/24"]);
    }
}
