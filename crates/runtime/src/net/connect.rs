//! `network connect` and `network disconnect`: a running container joins
//! one more network, or leaves one, without a restart.

use std::fs::File;
use std::os::fd::AsFd;

use cratebox_network::links::Netlink;

use super::{host_end, store_error, Attached, NetworkMode};
use crate::containers::Record;
use crate::engine::Engine;
use crate::error::EngineError;

impl Engine {
    // ANCHOR: connect
    /// `network connect NETWORK CONTAINER`: one more network for the
    /// container, kept in its record for its next runs; plugged in now
    /// when it runs (as `eth1`, `eth2`...).
    pub fn connect(&self, record: &Record, name: &str) -> Result<(), EngineError> {
        let networks = self.networks();
        let locked = networks.lock().map_err(store_error)?;
        let network = locked.get(name).map_err(store_error)?;
        let spec = record.spec.clone().unwrap_or_default();
        let on = match &spec.network.mode {
            NetworkMode::Bridge(first) => std::iter::once(first).chain(&spec.network.also).any(|n| n == name),
            _ => {
                return Err(EngineError::Network(format!(
                    "container {} has --network {}: only a container on a bridge network can join another",
                    record.name,
                    spec.network.mode.name()
                )))
            }
        };
        if on {
            return Err(EngineError::Network(format!(
                "endpoint with name {} already exists in network {name}",
                record.name
            )));
        }
        // ANCHOR: connect_plug
        let address = locked.lease(name, &record.id).map_err(store_error)?;
        let record = self.containers.update(&record.id, |r| {
            if let Some(spec) = r.spec.as_mut() {
                spec.network.also.push(name.to_string());
            }
        })?;
        let (true, Some(init)) = (record.is_running(), &record.state.init) else {
            return Ok(());
        };
        let path = format!("/proc/{}/ns/net", init.pid);
        let netns = File::open(&path).map_err(|source| EngineError::Io {
            what: "open",
            path: path.into(),
            source,
        })?;
        let attached = Attached {
            network: name.to_string(),
            address,
            gateway: network.gateway,
            prefix: network.subnet.prefix(),
            ports: Vec::new(),
        };
        let i = record.state.networks.len();
        let mut netlink = Netlink::open().map_err(|e| EngineError::Network(e.to_string()))?;
        let place = (network, attached);
        self.plug_one(&mut netlink, &locked, &record, netns.as_fd(), i, &place)?;
        self.containers
            .update(&record.id, |r| r.state.networks.push(place.1.clone()))?;
        self.reconcile(&locked, None)
        // ANCHOR_END: connect_plug
    }
    // ANCHOR_END: connect

    /// `network disconnect NETWORK CONTAINER`: the reverse of
    /// [`Engine::connect`] (a container's first network stays).
    pub fn disconnect(&self, record: &Record, name: &str) -> Result<(), EngineError> {
        let spec = record.spec.clone().unwrap_or_default();
        if !spec.network.also.iter().any(|n| n == name) {
            return Err(EngineError::Network(format!(
                "container {} is not connected to network {name} by network connect",
                record.name
            )));
        }
        let networks = self.networks();
        let locked = networks.lock().map_err(store_error)?;
        if let Some(i) = record.state.networks.iter().position(|a| a.network == name) {
            let mut netlink = Netlink::open().map_err(|e| EngineError::Network(e.to_string()))?;
            if let Some(index) = netlink
                .index_of(&host_end(&record.id, i))
                .map_err(|e| EngineError::Network(e.to_string()))?
            {
                netlink
                    .delete_link(index)
                    .map_err(|e| EngineError::Network(e.to_string()))?;
            }
        }
        locked.release(name, &record.id).map_err(store_error)?;
        self.containers.update(&record.id, |r| {
            if let Some(spec) = r.spec.as_mut() {
                spec.network.also.retain(|n| n != name);
            }
            r.state.networks.retain(|a| a.network != name);
        })?;
        self.reconcile(&locked, None)
    }
}
