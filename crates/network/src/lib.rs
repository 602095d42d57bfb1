//! # cratebox-network: a container's network, as docker builds it
//!
//! Chapter 7. Chapter 2 gave every container a network namespace with
//! nothing in it but `lo`. Here it gets a way out:
//!
//! ```text
//! container: eth0 172.17.0.2 ──veth──┐
//!                                    ├─ bridge cratebox0 172.17.0.1 ── host routing ── nft: masquerade ──► eth0 of the host
//! container: eth0 172.17.0.3 ──veth──┘                                 nft: published ports (DNAT) ◄──
//! ```
//!
//! | file | idea |
//! |---|---|
//! | [`subnet`] | a network's addresses: gateway, the next free one, a subnet that clashes with nothing |
//! | [`ports`] | `-p` and `EXPOSE`, read as docker reads them |
//! | [`host`] | the bridge, its settings, a container plugged in, nft applied, the host's routes |
//! | [`links`] | links, addresses and routes over netlink, in any namespace |
//! | [`store`] | the networks and their leases on disk, under a lock |
//! | [`rules`] | the nftables table: masquerade, published ports, localhost, hairpin, isolation |
//!
//! The pure parts return data and are snapshot-tested; the rest is tested
//! by making real bridges, veths and namespaces, as root.

pub mod host;
pub mod links;
pub mod ports;
pub mod rules;
pub mod store;
pub mod subnet;
