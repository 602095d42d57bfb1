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

use std::collections::BTreeSet;
use std::fs::File;
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::os::fd::AsFd;
use std::path::PathBuf;

use cratebox_network::host::{self, Endpoint};
use cratebox_network::links::Netlink;
use cratebox_network::ports::{PortSpec, Protocol, Published};
use cratebox_network::rules::{ruleset, NetworkRule, PortRule};
use cratebox_network::store::{Lease, Locked, Network, Networks, StoreError, DEFAULT_NETWORK};
use cratebox_sandbox::mounts::{ExtraKind, ExtraMount};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::containers::{now, random_id, Record};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::RunError;

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
}

impl NetworkMode {
    /// Read `--network`.
    pub fn parse(text: &str) -> NetworkMode {
        match text {
            "none" => NetworkMode::None,
            "host" => NetworkMode::Host,
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
    /// The network and the container's place on it (bridge mode).
    pub attached: Option<(Network, Attached)>,
}

fn store_error(error: StoreError) -> EngineError {
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
                let network = self.network_or_default(&locked, name)?;
                let address = locked.lease(name, &record.id).map_err(store_error)?;
                let taken = self.taken_ports(&locked, &record.id)?;
                let ports = spec
                    .publish
                    .iter()
                    .map(|port| pick_host_port(port, &taken))
                    .collect::<Result<Vec<_>, _>>()?;
                let attached = Attached {
                    network: name.clone(),
                    address,
                    gateway: network.gateway,
                    prefix: network.subnet.prefix(),
                    ports,
                };
                let mounts = self.etc_files(record, address)?;
                Ok(Prepared {
                    own_namespace: true,
                    join: None,
                    mounts,
                    attached: Some((network, attached)),
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
                resolv_conf(&host_resolv, upstream.as_deref()),
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
        let Some((network, attached)) = &prepared.attached else {
            return Ok(());
        };
        let fail = |error: &dyn std::fmt::Display| RunError::Network(error.to_string());
        let path = format!("/proc/{pid}/ns/net");
        let netns = File::open(&path).map_err(|e| fail(&format!("cannot open {path}: {e}")))?;
        let networks = self.networks();
        let locked = networks.lock().map_err(|e| fail(&e))?;
        let mut netlink = Netlink::open().map_err(|e| fail(&e))?;
        let bridge = host::ensure_bridge(&mut netlink, network).map_err(|e| fail(&e))?;
        let host_end = format!("cb{}", &record.id[..12]);
        let end = Endpoint {
            host_end: &host_end,
            inside: "eth0",
            address: attached.address,
            default_route: true,
        };
        host::plug(&mut netlink, network, bridge, netns.as_fd(), &end).map_err(|e| fail(&e))?;
        locked
            .set_ports(&network.name, &record.id, &attached.ports)
            .map_err(|e| fail(&e))?;
        self.containers
            .update(&record.id, |r| r.state.network = Some(attached.clone()))
            .map_err(|e| fail(&e))?;
        self.reconcile(&locked, None).map_err(|e| fail(&e))
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
    /// one on, then make the host match.
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
                self.write_names(&running)?;
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
        host::apply_rules(&ruleset(&networks, &ports))
            .map_err(|e| EngineError::Network(e.to_string()))
    }
    // ANCHOR_END: reconcile

    // ANCHOR: write_names
    /// Names on a user network: every running container's `/etc/hosts`
    /// lists all of them, by name and hostname, rewritten whenever one
    /// comes or goes. (In place: the file is bind-mounted, and a mount
    /// holds the file it was made of, not its name.)
    fn write_names(&self, running: &[(&String, &Lease)]) -> Result<(), EngineError> {
        let members: Vec<(Ipv4Addr, String, String)> = running
            .iter()
            .filter_map(|(id, lease)| {
                let record = self.containers.get(id).ok()?;
                let hostname = record.spec.as_ref()?.hostname.clone();
                Some((lease.address, record.name, hostname))
            })
            .collect();
        for (id, lease) in running {
            let Some((_, _, hostname)) = members.iter().find(|m| m.0 == lease.address) else {
                continue;
            };
            let mut text = hosts_file(hostname, lease.address);
            for (address, name, other_hostname) in &members {
                if *address != lease.address {
                    text.push_str(&format!("{address}\t{name} {other_hostname}\n"));
                }
            }
            let path = self.containers.dir(id).join("hosts");
            if path.exists() {
                std::fs::write(&path, text).map_err(|source| EngineError::Io {
                    what: "write",
                    path,
                    source,
                })?;
            }
        }
        Ok(())
    }
    // ANCHOR_END: write_names
}

// ANCHOR: pick_host_port
/// The host side of a port to publish: the one asked for, unless another
/// container or a program of the host has it; or, when none was asked
/// for, a free one the kernel picks.
fn pick_host_port(port: &PortSpec, taken: &[Published]) -> Result<Published, EngineError> {
    let host_ip = port.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let clash = |p: &Published, number: u16| {
        p.protocol == port.protocol
            && p.host_port == number
            && (p.host_ip == host_ip || p.host_ip.is_unspecified() || host_ip.is_unspecified())
    };
    let in_use = |number: u16| {
        EngineError::Network(format!(
            "Bind for {host_ip}:{number} failed: port is already allocated"
        ))
    };
    // Binding tells whether a program of the host listens there, and,
    // with port 0, which port is free.
    let bind = |number: u16| -> std::io::Result<u16> {
        match port.protocol {
            Protocol::Tcp => TcpListener::bind((host_ip, number))?.local_addr(),
            Protocol::Udp => UdpSocket::bind((host_ip, number))?.local_addr(),
        }
        .map(|address| address.port())
    };
    let host_port = match port.host_port {
        Some(number) => {
            if taken.iter().any(|p| clash(p, number)) {
                return Err(in_use(number));
            }
            bind(number).map_err(|e| {
                EngineError::Network(format!("Bind for {host_ip}:{number} failed: {e}"))
            })?
        }
        None => {
            let mut tries = 0;
            loop {
                let number =
                    bind(0).map_err(|e| EngineError::Network(format!("no free port: {e}")))?;
                if !taken.iter().any(|p| clash(p, number)) || tries > 20 {
                    break number;
                }
                tries += 1;
            }
        }
    };
    Ok(Published {
        host_ip,
        host_port,
        container_port: port.container_port,
        protocol: port.protocol,
    })
}
// ANCHOR_END: pick_host_port

/// A container's `/etc/hosts`: localhost, and its own name.
fn hosts_file(hostname: &str, address: Ipv4Addr) -> String {
    format!(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{address}\t{hostname}\n"
    )
}

// ANCHOR: resolv_conf
/// A container's `/etc/resolv.conf`, from the host's: a name server on
/// the host's loopback (systemd-resolved's 127.0.0.53, a local dnsmasq)
/// cannot be reached from the container's own loopback, so, as docker
/// does, it is replaced by the servers behind it (`upstream`, systemd's
/// /run/systemd/resolve/resolv.conf), or by public ones when there are
/// none.
pub fn resolv_conf(host: &str, upstream: Option<&str>) -> String {
    let loopback = |line: &str| {
        line.split_whitespace()
            .nth(1)
            .and_then(|a| a.parse::<Ipv4Addr>().ok())
            .is_some_and(|a| a.is_loopback())
    };
    let servers = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.trim_start().starts_with("nameserver") && !loopback(l.trim_start()))
            .map(|l| l.trim().to_string())
            .collect()
    };
    let mut lines: Vec<String> = host
        .lines()
        .filter(|l| !l.trim_start().starts_with("nameserver") && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let mut found = servers(host);
    let used_a_stub = host
        .lines()
        .any(|l| l.trim_start().starts_with("nameserver") && loopback(l.trim_start()));
    if used_a_stub {
        found.extend(upstream.map(servers).unwrap_or_default());
    }
    let unique: BTreeSet<String> = BTreeSet::new();
    let mut seen = unique;
    found.retain(|s| seen.insert(s.clone()));
    if found.is_empty() {
        found = vec!["nameserver 8.8.8.8".into(), "nameserver 8.8.4.4".into()];
    }
    lines.extend(found);
    lines.join("\n") + "\n"
}
// ANCHOR_END: resolv_conf

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_as_docker_writes_it() {
        let stub =
            "# managed by resolved\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n";
        let upstream = "nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch lan\n";
        let cases = [
            (
                "a stub with its upstream",
                resolv_conf(stub, Some(upstream)),
            ),
            ("a stub without", resolv_conf(stub, None)),
            ("plain servers", resolv_conf("nameserver 192.0.2.1\n", None)),
            (
                "a local dnsmasq beside a real one",
                resolv_conf("nameserver 127.0.0.1\nnameserver 192.0.2.1\n", None),
            ),
        ];
        let text: Vec<String> = cases
            .iter()
            .map(|(what, text)| format!("## {what}\n{text}"))
            .collect();
        insta::assert_snapshot!(text.join("\n"));
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

    #[test]
    fn a_port_another_container_has_is_refused() {
        let spec = PortSpec {
            host_ip: None,
            host_port: Some(8080),
            container_port: 80,
            protocol: Protocol::Tcp,
        };
        let taken = [Published {
            host_ip: Ipv4Addr::LOCALHOST,
            host_port: 8080,
            container_port: 81,
            protocol: Protocol::Tcp,
        }];
        let error = pick_host_port(&spec, &taken).err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("Bind for 0.0.0.0:8080 failed: port is already allocated")
        );
    }
}
