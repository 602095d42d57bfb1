//! Chapter 7: a container's network, as its record asks for it.
//!
//! Before the container is spawned, [`Engine::prepare_network`] takes an
//! address from its network (IPAM), picks its published ports' host side
//! and writes the files it sees as `/etc/hosts`, `/etc/hostname` and
//! `/etc/resolv.conf`. Once its first process exists, and before its
//! command starts, [`Engine::plug_network`] makes the bridge if needed,
//! plugs a veth into it whose other end is born in the container's
//! namespace as `eth0`, and rewrites the firewall table. When the run
//! ends the ports go; on `rm` the address goes, and with the last running
//! container of a network, its bridge.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;
use std::path::PathBuf;

use cratebox_network::host::{self, Endpoint};
use cratebox_network::links::Netlink;
use cratebox_network::ports::{PortSpec, Published};
use cratebox_network::rules::{ruleset, NetworkRule, PortRule};
use cratebox_network::store::{Lease, Locked, Network, Networks, StoreError, DEFAULT_NETWORK};
use cratebox_sandbox::mounts::{ExtraKind, ExtraMount};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::containers::{now, random_id, Record};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::RunError;

mod connect;
mod files;
mod ports;

use files::hosts_file;
pub use files::resolv_conf;
use ports::pick_host_port;

/// How a container is networked (`--network`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkMode {
    /// `none`: a network namespace with only `lo` (chapters 2 to 6).
    #[default]
    None,
    /// `host`: no network namespace, the host's own network.
    Host,
    /// A network's bridge: `bridge` (docker's default) or a user network.
    Bridge(String),
    /// `container:NAME`: another running container's network namespace.
    Container(String),
    /// `slirp4netns` (chapter 9): a network namespace of its own whose
    /// `tap0` a user-space TCP/IP stack, slirp4netns, connects to the
    /// host's network. Needs no root: rootless containers reach out this way.
    Slirp4netns,
}

impl NetworkMode {
    /// Read `--network`.
    pub fn parse(text: &str) -> NetworkMode {
        match text {
            "none" => NetworkMode::None,
            "host" => NetworkMode::Host,
            "slirp4netns" => NetworkMode::Slirp4netns,
            _ => match text.strip_prefix("container:") {
                Some(name) => NetworkMode::Container(name.to_string()),
                None => NetworkMode::Bridge(text.to_string()),
            },
        }
    }

    /// As docker's `HostConfig.NetworkMode` writes it.
    pub fn name(&self) -> String {
        match self {
            NetworkMode::None => "none".into(),
            NetworkMode::Host => "host".into(),
            NetworkMode::Bridge(name) => name.clone(),
            NetworkMode::Container(name) => format!("container:{name}"),
            NetworkMode::Slirp4netns => "slirp4netns".into(),
        }
    }
}

/// `--network` and `-p` (with `-P` already turned into ports), kept in
/// the container's spec.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkSpec {
    /// Which network.
    pub mode: NetworkMode,
    /// What to publish.
    pub publish: Vec<PortSpec>,
    /// More networks it is connected to (`network connect`).
    pub also: Vec<String>,
}

/// A running container's place on a network: for `inspect` and `port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attached {
    /// The network's name.
    pub network: String,
    /// The container's address.
    pub address: Ipv4Addr,
    /// The network's gateway.
    pub gateway: Ipv4Addr,
    /// The subnet's prefix length.
    pub prefix: u8,
    /// Its published ports.
    pub ports: Vec<Published>,
}

/// What [`Engine::prepare_network`] decided, for the run to apply.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Keep a network namespace of its own (not `host`).
    pub own_namespace: bool,
    /// Join this one instead (`container:NAME`), kept open until started.
    pub join: Option<File>,
    /// `/etc/hosts` and friends, bind-mounted.
    pub mounts: Vec<ExtraMount>,
    /// The networks and the container's place on each (bridge mode),
    /// its first network first.
    pub attached: Vec<(Network, Attached)>,
    /// Connect it with slirp4netns once its first process exists.
    pub slirp: bool,
}

pub(crate) fn store_error(error: StoreError) -> EngineError {
    EngineError::Network(error.to_string())
}

impl Engine {
    /// The networks under this state root.
    pub fn networks(&self) -> Networks {
        Networks::new(self.state_root())
    }

    /// The network called `name`, made first if it is the default one.
    fn network_or_default(&self, locked: &Locked<'_>, name: &str) -> Result<Network, EngineError> {
        match locked.get(name) {
            Err(StoreError::NotFound(_)) if name == DEFAULT_NETWORK => locked
                .create(name, None, &host::host_routes(), &random_id()?, &now())
                .map_err(store_error),
            other => other.map_err(store_error),
        }
    }

    // ANCHOR: prepare_network
    /// Everything the container's network needs before it is spawned.
    pub fn prepare_network(
        &self,
        record: &Record,
        spec: &NetworkSpec,
    ) -> Result<Prepared, EngineError> {
        match &spec.mode {
            NetworkMode::None => Ok(Prepared {
                own_namespace: true,
                ..Prepared::default()
            }),
            NetworkMode::Host => Ok(Prepared::default()),
            NetworkMode::Slirp4netns => Ok(Prepared {
                own_namespace: true,
                // slirp4netns answers DNS at 10.0.2.3 and forwards it to
                // the host's resolver.
                mounts: self.etc_files(
                    record,
                    crate::slirp::ADDRESS,
                    Some(format!("nameserver {}\n", crate::slirp::DNS)),
                )?,
                slirp: true,
                ..Prepared::default()
            }),
            NetworkMode::Container(name) => {
                let other = self.containers.find(name)?;
                let pid = match (other.is_running(), &other.state.init) {
                    (true, Some(init)) => init.pid,
                    _ => {
                        return Err(EngineError::Network(format!(
                            "cannot join the network of container {name}: it is not running"
                        )))
                    }
                };
                let path = format!("/proc/{pid}/ns/net");
                let join = File::open(&path).map_err(|source| EngineError::Io {
                    what: "open",
                    path: path.into(),
                    source,
                })?;
                Ok(Prepared {
                    own_namespace: true,
                    join: Some(join),
                    ..Prepared::default()
                })
            }
            NetworkMode::Bridge(name) => {
                let networks = self.networks();
                let locked = networks.lock().map_err(store_error)?;
                let taken = self.taken_ports(&locked, &record.id)?;
                let ports = spec
                    .publish
                    .iter()
                    .map(|port| pick_host_port(port, &taken))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut attached = Vec::new();
                for (i, name) in std::iter::once(name).chain(&spec.also).enumerate() {
                    let network = self.network_or_default(&locked, name)?;
                    let address = locked.lease(name, &record.id).map_err(store_error)?;
                    let place = Attached {
                        network: name.clone(),
                        address,
                        gateway: network.gateway,
                        prefix: network.subnet.prefix(),
                        // Ports are published on the first network.
                        ports: if i == 0 { ports.clone() } else { Vec::new() },
                    };
                    attached.push((network, place));
                }
                let mounts = self.etc_files(record, attached[0].1.address, None)?;
                Ok(Prepared {
                    own_namespace: true,
                    join: None,
                    mounts,
                    attached,
                    slirp: false,
                })
            }
        }
    }
    // ANCHOR_END: prepare_network

    /// The ports other running containers publish.
    fn taken_ports(
        &self,
        locked: &Locked<'_>,
        except: &str,
    ) -> Result<Vec<Published>, EngineError> {
        let mut taken = Vec::new();
        for network in locked.list().map_err(store_error)? {
            for (id, lease) in locked.leases(&network.name).map_err(store_error)? {
                if id != except && self.is_running(&id) {
                    taken.extend(lease.ports);
                }
            }
        }
        Ok(taken)
    }

    fn is_running(&self, id: &str) -> bool {
        self.containers.get(id).is_ok_and(|r| r.is_running())
    }

    /// `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf` for the
    /// container, written beside its record and bind-mounted over the
    /// image's.
    fn etc_files(
        &self,
        record: &Record,
        address: Ipv4Addr,
        resolv: Option<String>,
    ) -> Result<Vec<ExtraMount>, EngineError> {
        let hostname = record
            .spec
            .as_ref()
            .map(|s| s.hostname.clone())
            .unwrap_or_else(|| record.short_id().to_string());
        let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let upstream = std::fs::read_to_string("/run/systemd/resolve/resolv.conf").ok();
        let files = [
            ("hosts", hosts_file(&hostname, address)),
            ("hostname", format!("{hostname}\n")),
            (
                "resolv.conf",
                resolv.unwrap_or_else(|| resolv_conf(&host_resolv, upstream.as_deref())),
            ),
        ];
        let dir = self.containers.dir(&record.id);
        let mut mounts = Vec::new();
        for (name, text) in files {
            let path: PathBuf = dir.join(name);
            std::fs::write(&path, text).map_err(|source| EngineError::Io {
                what: "write",
                path: path.clone(),
                source,
            })?;
            mounts.push(ExtraMount {
                target: format!("/etc/{name}"),
                kind: ExtraKind::Bind {
                    source: path,
                    file: true,
                    fill: false,
                },
                readonly: false,
            });
        }
        Ok(mounts)
    }

    // ANCHOR: plug_network
    /// Plug the container whose first process is `pid` into its network,
    /// as prepared: the bridge, the veth, the address, the route, the
    /// table. Runs before the container's command starts.
    pub fn plug_network(
        &self,
        record: &Record,
        prepared: &Prepared,
        pid: Pid,
    ) -> Result<(), RunError> {
        if prepared.slirp {
            return crate::slirp::connect(pid).map_err(RunError::Network);
        }
        if prepared.attached.is_empty() {
            return Ok(());
        }
        let fail = |error: &dyn std::fmt::Display| RunError::Network(error.to_string());
        let path = format!("/proc/{pid}/ns/net");
        let netns = File::open(&path).map_err(|e| fail(&format!("cannot open {path}: {e}")))?;
        let networks = self.networks();
        let locked = networks.lock().map_err(|e| fail(&e))?;
        let mut netlink = Netlink::open().map_err(|e| fail(&e))?;
        for (i, place) in prepared.attached.iter().enumerate() {
            self.plug_one(&mut netlink, &locked, record, netns.as_fd(), i, place)
                .map_err(|e| fail(&e))?;
        }
        let all: Vec<Attached> = prepared.attached.iter().map(|(_, a)| a.clone()).collect();
        self.containers
            .update(&record.id, |r| r.state.networks = all.clone())
            .map_err(|e| fail(&e))?;
        self.reconcile(&locked, None).map_err(|e| fail(&e))
    }
    // ANCHOR_END: plug_network

    /// Plug the container into its `i`th network, `place` (0: its first,
    /// which has its default route).
    pub(crate) fn plug_one(
        &self,
        netlink: &mut Netlink,
        locked: &Locked<'_>,
        record: &Record,
        netns: std::os::fd::BorrowedFd<'_>,
        i: usize,
        place: &(Network, Attached),
    ) -> Result<(), EngineError> {
        let (network, attached) = place;
        let as_network = |e: &dyn std::fmt::Display| EngineError::Network(e.to_string());
        let bridge = host::ensure_bridge(netlink, network).map_err(|e| as_network(&e))?;
        let host_end = host_end(&record.id, i);
        let inside = format!("eth{i}");
        let end = Endpoint {
            host_end: &host_end,
            inside: &inside,
            address: attached.address,
            default_route: i == 0,
        };
        host::plug(netlink, network, bridge, netns, &end).map_err(|e| as_network(&e))?;
        locked
            .set_ports(&network.name, &record.id, &attached.ports)
            .map_err(store_error)
    }

    // ANCHOR_END: plug_network

    /// The container's run ended: its ports are no longer published, and
    /// a bridge with no running container left goes.
    pub fn network_ended(&self, id: &str) -> Result<(), EngineError> {
        self.change_leases(id, |locked, network| locked.set_ports(network, id, &[]))
    }

    /// The container is removed: its addresses are given back.
    pub fn network_released(&self, id: &str) -> Result<(), EngineError> {
        self.change_leases(id, |locked, network| locked.release(network, id))
    }

    /// Apply `change` to container `id`'s lease on each network it has
    /// one on, then make the host match. (Its veths die with its network
    /// namespace: the kernel takes them down a moment after its last
    /// process, and deleting them here would make every run wait for
    /// that, tens of milliseconds.)
    fn change_leases(
        &self,
        id: &str,
        change: impl Fn(&Locked<'_>, &str) -> Result<(), StoreError>,
    ) -> Result<(), EngineError> {
        let networks = self.networks();
        let locked = networks.lock().map_err(store_error)?;
        let mut touched = false;
        for network in locked.list().map_err(store_error)? {
            if locked
                .leases(&network.name)
                .map_err(store_error)?
                .contains_key(id)
            {
                change(&locked, &network.name).map_err(store_error)?;
                touched = true;
            }
        }
        if touched {
            self.reconcile(&locked, Some(id))?;
        }
        Ok(())
    }

    // ANCHOR: reconcile
    /// Make the host match the state: a bridge for each network with a
    /// running container (none for the others), and the firewall table for
    /// those and the ports their running containers publish. What a dead
    /// container left (its ports, its network's bridge) goes here too.
    fn reconcile(&self, locked: &Locked<'_>, except: Option<&str>) -> Result<(), EngineError> {
        let mut netlink = Netlink::open().map_err(|e| EngineError::Network(e.to_string()))?;
        let mut networks = Vec::new();
        let mut ports = Vec::new();
        let mut named: Vec<Vec<(String, Lease)>> = Vec::new();
        for network in locked.list().map_err(store_error)? {
            let leases = locked.leases(&network.name).map_err(store_error)?;
            let running: Vec<_> = leases
                .iter()
                .filter(|(id, _)| Some(id.as_str()) != except && self.is_running(id))
                .collect();
            if running.is_empty() {
                host::remove_bridge(&mut netlink, &network)
                    .map_err(|e| EngineError::Network(e.to_string()))?;
                continue;
            }
            if network.name != DEFAULT_NETWORK {
                let members = running.iter().map(|(id, l)| ((*id).clone(), (*l).clone()));
                named.push(members.collect());
            }
            for (_, lease) in running {
                ports.extend(lease.ports.iter().map(|p| PortRule {
                    protocol: p.protocol,
                    host_ip: Some(p.host_ip),
                    host_port: p.host_port,
                    container: lease.address,
                    container_port: p.container_port,
                }));
            }
            networks.push(NetworkRule {
                bridge: network.bridge.clone(),
                subnet: network.subnet,
            });
        }
        self.write_names(&named)?;
        self.apply_if_changed(&ruleset(&networks, &ports))
    }
    // ANCHOR_END: reconcile

    /// Apply the table's script unless it is the one applied last in this
    /// boot (kept beside the networks): running nft costs a process, and
    /// most runs change nothing in the table (no port, a bridge already
    /// there).
    fn apply_if_changed(&self, script: &str) -> Result<(), EngineError> {
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
        let netns = std::fs::read_link("/proc/self/ns/net").unwrap_or_default();
        let stamp = format!("# boot {} netns {}\n{script}", boot.trim(), netns.display());
        let applied = self.state_root().join("networks/.applied");
        if std::fs::read_to_string(&applied).is_ok_and(|old| old == stamp) {
            return Ok(());
        }
        host::apply_rules(script).map_err(|e| EngineError::Network(e.to_string()))?;
        std::fs::write(&applied, stamp).map_err(|source| EngineError::Io {
            what: "write",
            path: applied,
            source,
        })
    }

    // ANCHOR: write_names
    /// Names on user networks: every running container's `/etc/hosts`
    /// lists the running containers of each user network it is on, by
    /// name and hostname, and is rewritten whenever one comes or goes. (In
    /// place: the file is bind-mounted, and a mount holds the file it was
    /// made of, not its name.)
    fn write_names(&self, named: &[Vec<(String, Lease)>]) -> Result<(), EngineError> {
        // Each member once: its name and hostname.
        let mut who: BTreeMap<&str, (String, String)> = BTreeMap::new();
        for (id, _) in named.iter().flatten() {
            if let Ok(record) = self.containers.get(id) {
                let hostname = record
                    .spec
                    .as_ref()
                    .map(|s| s.hostname.clone())
                    .unwrap_or_default();
                who.insert(id, (record.name, hostname));
            }
        }
        // ANCHOR: write_names_hosts
        for (id, (_, hostname)) in &who {
            let mut own = None;
            let mut others = String::new();
            for members in named.iter().filter(|m| m.iter().any(|(i, _)| i == id)) {
                for (other, lease) in members {
                    match who.get(other.as_str()) {
                        _ if other == id => own = own.or(Some(lease.address)),
                        Some((name, their_hostname)) => others
                            .push_str(&format!("{}\t{name} {their_hostname}\n", lease.address)),
                        None => {}
                    }
                }
            }
            let Some(own) = own else { continue };
            let path = self.containers.dir(id).join("hosts");
            if path.exists() {
                let text = hosts_file(hostname, own) + &others;
                std::fs::write(&path, text).map_err(|source| EngineError::Io {
                    what: "write",
                    path,
                    source,
                })?;
            }
        }
        Ok(())
        // ANCHOR_END: write_names_hosts
    }
    // ANCHOR_END: write_names
}

/// The name of the host's end of the container's `i`th veth (at most 15
/// bytes): `cb` and 12 digits of the id for its first network; for the
/// others `cb`, 10 digits, `-` and the network's number. The `-` keeps the
/// two apart: with the number in place of the twelfth digit instead, an
/// id whose twelfth digit is `1` gave its second veth its first's name.
pub(crate) fn host_end(id: &str, i: usize) -> String {
    match i {
        0 => format!("cb{}", &id[..12]),
        i => format!("cb{}-{}", &id[..10], i.min(9)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_containers_veths_never_share_a_name() {
        // The twelfth digit is 1: the first veth's name must not be the second's.
        let id = "b9a909f55721aaaa";
        let names: Vec<String> = (0..3).map(|i| host_end(id, i)).collect();
        assert_eq!(
            names,
            ["cbb9a909f55721", "cbb9a909f557-1", "cbb9a909f557-2"]
        );
        assert!(names.iter().all(|name| name.len() <= 15));
    }

    #[test]
    fn network_modes_as_docker_writes_them() {
        for text in ["none", "host", "bridge", "web", "container:db"] {
            assert_eq!(NetworkMode::parse(text).name(), text);
        }
        assert_eq!(
            NetworkMode::parse("container:db"),
            NetworkMode::Container("db".into())
        );
    }
}
