//! Chapter 7: the networks on disk, and which container holds which
//! address (the IPAM state), under `$CRATEBOX_ROOT/networks/`:
//!
//! ```text
//! networks/.lock                  flock(2): one change at a time
//! networks/NAME/network.json      name, id, subnet, gateway, bridge
//! networks/NAME/leases.json       container id → its address and ports
//! ```
//!
//! Every change happens under the lock and is written to a temp file
//! renamed into place, so twenty `run`s at once get twenty addresses, and
//! a crash leaves either the old state or the new.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ports::Published;
use crate::subnet::{choose, Subnet};

/// The network every container joins unless told otherwise, as docker's.
pub const DEFAULT_NETWORK: &str = "bridge";
/// Its bridge's name.
pub const DEFAULT_BRIDGE: &str = "cratebox0";

/// A network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// Its name.
    pub name: String,
    /// Its id (64 hex digits).
    pub id: String,
    /// Its addresses.
    pub subnet: Subnet,
    /// The bridge's address, the containers' gateway.
    pub gateway: Ipv4Addr,
    /// The bridge's interface name.
    pub bridge: String,
    /// When it was made (RFC 3339).
    pub created: String,
}

/// What one container holds on a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// Its address.
    pub address: Ipv4Addr,
    /// Its published ports, while it runs.
    #[serde(default)]
    pub ports: Vec<Published>,
}

/// Container id → lease.
pub type Leases = BTreeMap<String, Lease>;

/// What can go wrong with the networks' state.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        /// What was tried.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A state file that is not ours.
    #[error("{} is damaged: {why}; remove it and the network it describes", path.display())]
    Damaged {
        /// Which.
        path: PathBuf,
        /// What the parser said.
        why: String,
    },
    /// No such network.
    #[error("network {0} not found")]
    NotFound(String),
    /// A name taken.
    #[error("network with name {0} already exists")]
    Exists(String),
    /// A subnet that clashes.
    #[error("invalid pool request: subnet {wanted} overlaps with {taken} ({by}): choose another --subnet")]
    Overlap {
        /// What was asked for.
        wanted: Subnet,
        /// What it clashes with.
        taken: Subnet,
        /// Whose it is.
        by: String,
    },
    /// Every default subnet is taken.
    #[error("no free subnet left in the default pools: give one with --subnet")]
    NoSubnet,
    /// Every address is taken.
    #[error("no address left in network {0}'s subnet")]
    Full(String),
    /// Containers still use it.
    #[error("network {0} has containers: remove them, or disconnect them, first")]
    InUse(String),
    /// A name docker would refuse.
    #[error("invalid network name {0:?}: use letters, digits, '_', '.' and '-', starting with a letter or digit")]
    BadName(String),
}

/// The networks under a state root.
#[derive(Debug, Clone)]
pub struct Networks {
    dir: PathBuf,
}

/// The networks, locked for a change.
#[derive(Debug)]
pub struct Locked<'a> {
    networks: &'a Networks,
    _lock: Flock<File>,
}

fn io_error<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

impl Networks {
    /// The networks under `state_root`.
    pub fn new(state_root: &Path) -> Networks {
        Networks {
            dir: state_root.join("networks"),
        }
    }

    /// Wait for the lock, then change things.
    pub fn lock(&self) -> Result<Locked<'_>, StoreError> {
        fs::create_dir_all(&self.dir).map_err(io_error("create", &self.dir))?;
        let path = self.dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error("open", &path))?;
        let lock =
            Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| StoreError::Io {
                what: "lock",
                path,
                source: errno.into(),
            })?;
        Ok(Locked {
            networks: self,
            _lock: lock,
        })
    }

    fn network_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

// ANCHOR: lease
impl Locked<'_> {
    /// Every network, by name.
    pub fn list(&self) -> Result<Vec<Network>, StoreError> {
        let mut networks = Vec::new();
        let entries = match fs::read_dir(&self.networks.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(networks),
            Err(e) => return Err(io_error("read", &self.networks.dir)(e)),
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && entry.path().is_dir() {
                networks.push(self.get(&name)?);
            }
        }
        networks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(networks)
    }

    /// The network called `name`.
    pub fn get(&self, name: &str) -> Result<Network, StoreError> {
        let path = self.networks.network_dir(name).join("network.json");
        match read_json(&path)? {
            Some(network) => Ok(network),
            None => Err(StoreError::NotFound(name.to_string())),
        }
    }

    /// Make a network: `subnet`, or the first of the default pools that
    /// clashes with none of `host_routes` and no other network.
    pub fn create(
        &self,
        name: &str,
        subnet: Option<Subnet>,
        host_routes: &[Subnet],
        id: &str,
        created: &str,
    ) -> Result<Network, StoreError> {
        if !valid_name(name) {
            return Err(StoreError::BadName(name.to_string()));
        }
        let existing = self.list()?;
        if existing.iter().any(|n| n.name == name) {
            return Err(StoreError::Exists(name.to_string()));
        }
        let mut taken: Vec<(Subnet, String)> = host_routes
            .iter()
            .map(|s| (*s, "a route of the host".to_string()))
            .collect();
        taken.extend(
            existing
                .iter()
                .map(|n| (n.subnet, format!("network {}", n.name))),
        );
        let subnet = match subnet {
            Some(wanted) => {
                if let Some((taken, by)) = taken.iter().find(|(t, _)| t.overlaps(&wanted)) {
                    return Err(StoreError::Overlap {
                        wanted,
                        taken: *taken,
                        by: by.clone(),
                    });
                }
                wanted
            }
            None => {
                let subnets: Vec<Subnet> = taken.iter().map(|(s, _)| *s).collect();
                choose(&subnets).ok_or(StoreError::NoSubnet)?
            }
        };
        let bridge = if name == DEFAULT_NETWORK {
            DEFAULT_BRIDGE.to_string()
        } else {
            // An interface name has at most 15 bytes.
            format!("cbr-{}", &id[..id.len().min(11)])
        };
        let network = Network {
            name: name.to_string(),
            id: id.to_string(),
            subnet,
            gateway: subnet.gateway(),
            bridge,
            created: created.to_string(),
        };
        let dir = self.networks.network_dir(name);
        fs::create_dir_all(&dir).map_err(io_error("create", &dir))?;
        write_json(&dir.join("leases.json"), &Leases::new())?;
        write_json(&dir.join("network.json"), &network)?;
        Ok(network)
    }

    /// Remove the network called `name`, which no container may hold.
    pub fn remove(&self, name: &str) -> Result<Network, StoreError> {
        let network = self.get(name)?;
        if !self.leases(name)?.is_empty() {
            return Err(StoreError::InUse(name.to_string()));
        }
        let dir = self.networks.network_dir(name);
        fs::remove_dir_all(&dir).map_err(io_error("remove", &dir))?;
        Ok(network)
    }

    /// Who holds what on network `name`.
    pub fn leases(&self, name: &str) -> Result<Leases, StoreError> {
        let path = self.networks.network_dir(name).join("leases.json");
        Ok(read_json(&path)?.unwrap_or_default())
    }

    fn save_leases(&self, name: &str, leases: &Leases) -> Result<(), StoreError> {
        write_json(&self.networks.network_dir(name).join("leases.json"), leases)
    }

    // ANCHOR: lease_one
    /// The address container `id` has on network `name`: the one it has
    /// already, or the lowest free one.
    pub fn lease(&self, name: &str, id: &str) -> Result<Ipv4Addr, StoreError> {
        let network = self.get(name)?;
        let mut leases = self.leases(name)?;
        if let Some(lease) = leases.get(id) {
            return Ok(lease.address);
        }
        let used: BTreeSet<Ipv4Addr> = leases.values().map(|l| l.address).collect();
        let address = network
            .subnet
            .next_free(&used)
            .ok_or_else(|| StoreError::Full(name.to_string()))?;
        leases.insert(
            id.to_string(),
            Lease {
                address,
                ports: Vec::new(),
            },
        );
        self.save_leases(name, &leases)?;
        Ok(address)
    }
    // ANCHOR_END: lease_one

    /// Record the ports container `id` publishes (none: it stopped).
    pub fn set_ports(&self, name: &str, id: &str, ports: &[Published]) -> Result<(), StoreError> {
        let mut leases = self.leases(name)?;
        if let Some(lease) = leases.get_mut(id) {
            lease.ports = ports.to_vec();
            self.save_leases(name, &leases)?;
        }
        Ok(())
    }

    /// Give back what container `id` holds on network `name`.
    pub fn release(&self, name: &str, id: &str) -> Result<(), StoreError> {
        let mut leases = self.leases(name)?;
        if leases.remove(id).is_some() {
            self.save_leases(name, &leases)?;
        }
        Ok(())
    }
}
// ANCHOR_END: lease

/// docker's rule for names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, StoreError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("read", path)(e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| StoreError::Damaged {
            path: path.to_path_buf(),
            why: e.to_string(),
        })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    let temp = path.with_extension("json.new");
    let text = serde_json::to_string_pretty(value).map_err(|e| StoreError::Damaged {
        path: path.to_path_buf(),
        why: e.to_string(),
    })?;
    fs::write(&temp, text).map_err(io_error("write", &temp))?;
    fs::rename(&temp, path).map_err(io_error("rename", &temp))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn subnet(text: &str) -> Subnet {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn networks_are_made_listed_and_removed() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let networks = Networks::new(root.path());
        let locked = networks.lock().unwrap_or_else(|e| panic!("{e}"));
        let host = [subnet("172.17.0.0/16")];
        let bridge = locked
            .create(DEFAULT_NETWORK, None, &host, ID, "t")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bridge.subnet, subnet("172.18.0.0/16"));
        assert_eq!(bridge.bridge, "cratebox0");
        let web = locked
            .create("web", None, &host, ID, "t")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (web.subnet, web.bridge.as_str()),
            (subnet("172.19.0.0/16"), "cbr-0123456789a")
        );
        let errors = [
            locked.create("web", None, &host, ID, "t").err(),
            locked
                .create("x", Some(subnet("172.19.4.0/24")), &host, ID, "t")
                .err(),
            locked.create("-x", None, &host, ID, "t").err(),
            locked.get("nope").err(),
        ];
        let errors: Vec<String> = errors.iter().flatten().map(|e| e.to_string()).collect();
        insta::assert_snapshot!(errors.join("\n"));
        let names: Vec<String> = locked
            .list()
            .unwrap_or_default()
            .into_iter()
            .map(|n| n.name)
            .collect();
        assert_eq!(names, ["bridge", "web"]);
        locked.lease("web", "c1").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(locked.remove("web"), Err(StoreError::InUse(_))));
        locked
            .release("web", "c1")
            .unwrap_or_else(|e| panic!("{e}"));
        locked.remove("web").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(locked.list().unwrap_or_default().len(), 1);
    }

    #[test]
    fn twenty_at_once_get_twenty_addresses_and_rm_gives_them_back() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let networks = Networks::new(root.path());
        networks
            .lock()
            .and_then(|l| l.create("small", Some(subnet("10.5.0.0/27")), &[], ID, "t"))
            .unwrap_or_else(|e| panic!("{e}"));
        let given: Vec<Ipv4Addr> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..20)
                .map(|i| {
                    let networks = networks.clone();
                    scope.spawn(move || {
                        networks
                            .lock()
                            .and_then(|l| l.lease("small", &format!("c{i}")))
                            .unwrap_or_else(|e| panic!("{e}"))
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        let distinct: BTreeSet<Ipv4Addr> = given.iter().copied().collect();
        assert_eq!(distinct.len(), 20);
        let locked = networks.lock().unwrap_or_else(|e| panic!("{e}"));
        // Asked again, a container keeps its address.
        let before = locked
            .leases("small")
            .ok()
            .and_then(|l| l.get("c3").map(|l| l.address));
        assert_eq!(locked.lease("small", "c3").ok(), before);
        locked
            .release("small", "c0")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(locked.lease("small", "new").ok(), given.first().copied());
        // .0, .1 and .31 are not for containers: 29 in all.
        for i in 20..29 {
            locked
                .lease("small", &format!("more{i}"))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(matches!(
            locked.lease("small", "one too many"),
            Err(StoreError::Full(_))
        ));
    }
}
