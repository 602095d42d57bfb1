//! Chapter 7: a network's addresses. A subnet such as `172.18.0.0/16`
//! names its first address and how many leading bits every address in it
//! shares; the rest number the hosts. The first host address is the
//! bridge's (the containers' gateway), the others go to containers, one
//! each, the lowest free first, as docker's IPAM hands them out.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// An IPv4 subnet: its network address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Subnet {
    network: Ipv4Addr,
    prefix: u8,
}

/// A subnet that cannot be one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SubnetError {
    /// Not `A.B.C.D/N`.
    #[error(
        "invalid subnet {0:?}: write it as an address and a prefix length, e.g. 172.18.0.0/16"
    )]
    Syntax(String),
    /// A prefix too long to leave room for a gateway and one container.
    #[error("subnet {0} is too small: use a prefix of /30 or shorter")]
    TooSmall(String),
    /// Host bits set after the prefix.
    #[error("invalid subnet {given}: its network address is {network} (bits after the prefix must be 0)")]
    NotANetwork {
        /// What was written.
        given: String,
        /// What was meant.
        network: String,
    },
}

impl Subnet {
    /// The subnet `network/prefix`; `network` must have no host bits.
    pub fn new(network: Ipv4Addr, prefix: u8) -> Result<Subnet, SubnetError> {
        let given = format!("{network}/{prefix}");
        if prefix > 30 {
            return Err(SubnetError::TooSmall(given));
        }
        let subnet = Subnet { network, prefix };
        if u32::from(network) & !subnet.mask() != 0 {
            let network = Ipv4Addr::from(u32::from(network) & subnet.mask());
            return Err(SubnetError::NotANetwork {
                given,
                network: format!("{network}/{prefix}"),
            });
        }
        Ok(subnet)
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The network address (all host bits 0).
    pub fn network(&self) -> Ipv4Addr {
        self.network
    }

    fn mask(&self) -> u32 {
        u32::MAX
            .checked_shl(32 - u32::from(self.prefix))
            .unwrap_or(0)
    }

    /// The broadcast address (all host bits 1).
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !self.mask())
    }

    /// The bridge's address, the containers' gateway: the first host.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) + 1)
    }

    /// Whether `address` is in the subnet.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        u32::from(address) & self.mask() == u32::from(self.network)
    }

    /// Whether the two share any address.
    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.contains(other.network) || other.contains(self.network)
    }

    // ANCHOR: next_free
    /// The lowest address for a container that is not in `used`: after the
    /// gateway, before the broadcast address. `None` when all are taken.
    pub fn next_free(&self, used: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
        let first = u32::from(self.gateway()) + 1;
        let last = u32::from(self.broadcast()) - 1;
        (first..=last)
            .map(Ipv4Addr::from)
            .find(|address| !used.contains(address))
    }
    // ANCHOR_END: next_free
}

impl FromStr for Subnet {
    type Err = SubnetError;

    fn from_str(text: &str) -> Result<Subnet, SubnetError> {
        let syntax = || SubnetError::Syntax(text.to_string());
        let (address, prefix) = text.split_once('/').ok_or_else(syntax)?;
        let network: Ipv4Addr = address.parse().map_err(|_| syntax())?;
        let prefix: u8 = prefix.parse().map_err(|_| syntax())?;
        if prefix > 32 {
            return Err(syntax());
        }
        Subnet::new(network, prefix)
    }
}

impl TryFrom<String> for Subnet {
    type Error = SubnetError;

    fn try_from(text: String) -> Result<Subnet, SubnetError> {
        text.parse()
    }
}

impl From<Subnet> for String {
    fn from(subnet: Subnet) -> String {
        subnet.to_string()
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Where new networks' subnets come from when none is given: docker's
/// default pools, 172.17.0.0/16 to 172.31.0.0/16, then 192.168.0.0/20
/// to 192.168.240.0/20.
pub fn default_pool() -> impl Iterator<Item = Subnet> {
    let wide = (17..=31).map(|b| Subnet {
        network: Ipv4Addr::new(172, b, 0, 0),
        prefix: 16,
    });
    let narrow = (0..16).map(|c| Subnet {
        network: Ipv4Addr::new(192, 168, c * 16, 0),
        prefix: 20,
    });
    wide.chain(narrow)
}

/// The first subnet of the pool that overlaps none of `taken` (the host's
/// routes and the other networks): a new network must not hide a part of
/// the host's own.
pub fn choose(taken: &[Subnet]) -> Option<Subnet> {
    default_pool().find(|candidate| taken.iter().all(|t| !t.overlaps(candidate)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet(text: &str) -> Subnet {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn subnets_are_read_and_checked() {
        let cases = [
            "172.18.0.0/16",
            "10.0.0.0/8",
            "192.168.1.0/24",
            "192.168.1.5/24",
            "10.0.0.0/31",
            "10.0.0.0",
            "10.0.0.0/33",
            "ten/8",
        ];
        let results: Vec<String> = cases
            .iter()
            .map(|text| match text.parse::<Subnet>() {
                Ok(s) => format!(
                    "{text}: gateway {} broadcast {}",
                    s.gateway(),
                    s.broadcast()
                ),
                Err(e) => format!("{text}: {e}"),
            })
            .collect();
        insta::assert_snapshot!(results.join("\n"));
    }

    #[test]
    fn addresses_are_handed_out_lowest_free_first() {
        let net = subnet("10.1.0.0/29");
        let mut used = BTreeSet::new();
        let mut given = Vec::new();
        while let Some(address) = net.next_free(&used) {
            used.insert(address);
            given.push(address.to_string());
        }
        // .0 the network, .1 the gateway, .7 the broadcast: five left.
        assert_eq!(
            given,
            ["10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5", "10.1.0.6"]
        );
        used.remove(&Ipv4Addr::new(10, 1, 0, 4));
        assert_eq!(net.next_free(&used), Some(Ipv4Addr::new(10, 1, 0, 4)));
    }

    #[test]
    fn a_new_subnet_avoids_the_hosts_and_the_other_networks() {
        let taken = [subnet("172.16.0.0/12")];
        assert_eq!(choose(&taken), Some(subnet("192.168.0.0/20")));
        let taken = [subnet("172.17.0.0/16"), subnet("172.18.5.0/24")];
        assert_eq!(choose(&taken), Some(subnet("172.19.0.0/16")));
        assert!(subnet("10.0.0.0/8").overlaps(&subnet("10.88.0.0/16")));
        assert!(!subnet("10.0.0.0/16").overlaps(&subnet("10.1.0.0/16")));
        let json = serde_json::to_string(&subnet("10.9.0.0/16")).unwrap_or_default();
        assert_eq!(json, "\"10.9.0.0/16\"");
        assert!(serde_json::from_str::<Subnet>("\"10.9.0.1/16\"").is_err());
    }
}
