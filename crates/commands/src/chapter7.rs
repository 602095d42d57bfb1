//! Chapter 7's command set, and `cratebox`'s: chapter 6's, with
//! containers on a bridge network by default, plus `port` and `network`
//! (`create`, `ls`, `inspect`, `rm`, `prune`, `connect`, `disconnect`).

use clap::{Args, Subcommand};
use cratebox_network::host::host_routes;
use cratebox_network::subnet::Subnet;
use cratebox_runtime::containers::{now, random_id};
use cratebox_runtime::engine::Engine;
use cratebox_runtime::net::NetworkMode;

use crate::chapter6;
use crate::run6;
use crate::table::{self, Column};

/// Everything `cratebox` offers.
#[derive(Debug, Subcommand)]
pub enum AllCommand {
    #[command(flatten)]
    Six(chapter6::AllCommand),
    /// List a container's published ports
    Port(PortArgs),
    /// Manage networks
    Network {
        /// What to do
        #[command(subcommand)]
        command: NetworkSubcommand,
    },
}

/// `port CONTAINER`.
#[derive(Debug, Args)]
pub struct PortArgs {
    /// The container
    pub container: String,
}

/// `network ...`.
#[derive(Debug, Subcommand)]
pub enum NetworkSubcommand {
    /// Create a network (a bridge of its own, a subnet of its own)
    Create {
        /// Its subnet, e.g. 172.30.0.0/16 [default: the first free one]
        #[arg(long)]
        subnet: Option<String>,
        /// Its name
        name: String,
    },
    /// List networks
    #[command(alias = "list")]
    Ls,
    /// Show networks as JSON
    Inspect {
        /// Their names
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove networks
    #[command(alias = "remove")]
    Rm {
        /// Their names
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove every network no container uses
    Prune,
    /// Connect a container to one more network
    Connect {
        /// The network
        network: String,
        /// The container
        container: String,
    },
    /// Disconnect a container from a network it was connected to
    Disconnect {
        /// The network
        network: String,
        /// The container
        container: String,
    },
}

/// Carry out one subcommand; returns the exit code.
pub fn dispatch(engine: &Engine, command: AllCommand) -> anyhow::Result<i32> {
    match command {
        AllCommand::Six(command) => chapter6::dispatch(engine, command),
        AllCommand::Port(args) => port(engine, &args),
        AllCommand::Network { command } => network(engine, command),
    }
}

/// Run `command` as program `program`, with containers on the default
/// bridge network unless `--network` says otherwise.
pub fn main_for(program: &str, command: AllCommand) -> ! {
    run6::set_default_network(NetworkMode::Bridge("bridge".into()));
    match command {
        AllCommand::Six(command) => chapter6::main_for(program, command),
        other => {
            let outcome = (|| {
                cratebox_cli::require_root(program, "manage networks")?;
                let engine = crate::open_engine()?;
                dispatch(&engine, other)
            })();
            chapter6::exit_with(program, false, outcome)
        }
    }
}

// ANCHOR: port
/// `port CONTAINER`: `80/tcp -> 0.0.0.0:8080`, one line a port.
fn port(engine: &Engine, args: &PortArgs) -> anyhow::Result<i32> {
    let record = engine.containers.find(&args.container)?;
    if !record.is_running() {
        anyhow::bail!("container {} is not running", record.name);
    }
    for published in record.state.networks.iter().flat_map(|n| &n.ports) {
        println!("{published}");
    }
    Ok(0)
}
// ANCHOR_END: port

fn network(engine: &Engine, command: NetworkSubcommand) -> anyhow::Result<i32> {
    match command {
        NetworkSubcommand::Connect { network, container } => {
            engine.connect(&engine.containers.find(&container)?, &network)?;
            return Ok(0);
        }
        NetworkSubcommand::Disconnect { network, container } => {
            engine.disconnect(&engine.containers.find(&container)?, &network)?;
            return Ok(0);
        }
        _ => {}
    }
    let networks = engine.networks();
    let locked = networks.lock()?;
    match command {
        NetworkSubcommand::Create { subnet, name } => {
            let subnet: Option<Subnet> = subnet.map(|s| s.parse()).transpose()?;
            let network = locked.create(&name, subnet, &host_routes(), &random_id()?, &now())?;
            println!("{}", network.id);
        }
        NetworkSubcommand::Ls => {
            const COLUMNS: [Column; 4] = [
                Column {
                    title: "NETWORK ID",
                    width: 0,
                },
                Column {
                    title: "NAME",
                    width: 0,
                },
                Column {
                    title: "DRIVER",
                    width: 0,
                },
                Column {
                    title: "SUBNET",
                    width: 0,
                },
            ];
            let mut rows = Vec::new();
            for network in locked.list()? {
                rows.push(vec![
                    network.id[..12].to_string(),
                    network.name,
                    "bridge".into(),
                    network.subnet.to_string(),
                ]);
            }
            for line in table::fitted(&COLUMNS, &rows) {
                println!("{line}");
            }
        }
        NetworkSubcommand::Inspect { names } => {
            let mut all = Vec::new();
            for name in &names {
                let network = locked.get(name)?;
                let leases = locked.leases(name)?;
                let containers: serde_json::Map<String, serde_json::Value> = leases
                    .iter()
                    .map(|(id, lease)| {
                        let name = engine
                            .containers
                            .get(id)
                            .map(|r| r.name)
                            .unwrap_or_default();
                        let entry = serde_json::json!({
                            "Name": name,
                            "IPv4Address": format!("{}/{}", lease.address, network.subnet.prefix()),
                        });
                        (id.clone(), entry)
                    })
                    .collect();
                all.push(serde_json::json!({
                    "Name": network.name,
                    "Id": network.id,
                    "Created": network.created,
                    "Driver": "bridge",
                    "IPAM": {"Config": [{"Subnet": network.subnet.to_string(), "Gateway": network.gateway.to_string()}]},
                    "Options": {"com.docker.network.bridge.name": network.bridge},
                    "Containers": containers,
                }));
            }
            println!("{}", serde_json::to_string_pretty(&all)?);
        }
        NetworkSubcommand::Rm { names } => {
            for name in &names {
                if name == "bridge" {
                    anyhow::bail!("bridge is a pre-defined network and cannot be removed");
                }
                locked.remove(name)?;
                println!("{name}");
            }
        }
        NetworkSubcommand::Connect { .. } | NetworkSubcommand::Disconnect { .. } => {}
        NetworkSubcommand::Prune => {
            for network in locked.list()? {
                if network.name != "bridge" && locked.leases(&network.name)?.is_empty() {
                    locked.remove(&network.name)?;
                    println!("{}", network.name);
                }
            }
        }
    }
    Ok(0)
}
