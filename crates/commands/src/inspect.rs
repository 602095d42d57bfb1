//! `inspect` of a container, in docker's shape.

use cratebox_runtime::containers::{Record, RestartPolicy, Status};
use cratebox_runtime::engine::Engine;
use cratebox_runtime::volumes::{MountKind, MountSpec};

use crate::lifecycle::state_name;

// ANCHOR: inspect
/// A container in docker's `inspect` shape: the fields people script
/// against (`State.Status`, `State.ExitCode`, `State.Pid`, `Config.Env`...).
pub fn container_json(engine: &Engine, record: &Record) -> serde_json::Value {
    let spec = record.spec.clone().unwrap_or_default();
    let state = &record.state;
    let status = record.live_status();
    let running = matches!(status, Status::Running { .. });
    let exit_code = match status {
        Status::Exited { code } => code,
        _ => 0,
    };
    let pid = match (&state.init, running) {
        (Some(init), true) => init.pid,
        _ => 0,
    };
    let zero_time = "0001-01-01T00:00:00Z".to_string();
    let (restart_name, restart_max) = match spec.restart {
        RestartPolicy::No => ("no", 0),
        RestartPolicy::Always => ("always", 0),
        RestartPolicy::OnFailure { max } => ("on-failure", max),
    };
    let limits = &spec.limits;
    // Chapter 9: docker's names for the security options.
    let security = &spec.security;
    let paths = security.paths();
    let devices: Vec<serde_json::Value> = security
        .devices
        .iter()
        .map(|device| {
            let mut parts = device.splitn(3, ':');
            let host = parts.next().unwrap_or_default();
            let container = parts.next().unwrap_or(host);
            let permissions = parts.next().unwrap_or("rwm");
            serde_json::json!({
                "PathOnHost": host,
                "PathInContainer": container,
                "CgroupPermissions": permissions,
            })
        })
        .collect();
    // Chapter 7: where it is on its networks, as docker's NetworkSettings.
    let networks: serde_json::Map<String, serde_json::Value> = state
        .networks
        .iter()
        .filter(|_| running)
        .map(|n| {
            let entry = serde_json::json!({
                "IPAddress": n.address.to_string(),
                "IPPrefixLen": n.prefix,
                "Gateway": n.gateway.to_string(),
            });
            (n.network.clone(), entry)
        })
        .collect();
    let mut ports = serde_json::Map::new();
    for p in state
        .networks
        .iter()
        .filter(|_| running)
        .flat_map(|n| &n.ports)
    {
        let key = format!("{}/{}", p.container_port, p.protocol.name());
        let binding = serde_json::json!({"HostIp": p.host_ip.to_string(), "HostPort": p.host_port.to_string()});
        match ports.get_mut(&key).and_then(|v| v.as_array_mut()) {
            Some(list) => list.push(binding),
            None => {
                ports.insert(key, serde_json::json!([binding]));
            }
        }
    }
    serde_json::json!({
        "Id": record.id,
        "Created": record.created,
        "Path": record.command.first(),
        "Args": record.command.get(1..).unwrap_or_default(),
        "State": {
            "Status": state_name(record),
            "Running": running && state.init.is_some(),
            "Paused": false,
            "Restarting": state_name(record) == "restarting",
            "OOMKilled": state.oom_killed,
            "Dead": false,
            "Pid": pid,
            "ExitCode": exit_code,
            "Error": state.error.clone().unwrap_or_default(),
            "StartedAt": state.started_at.clone().unwrap_or_else(|| zero_time.clone()),
            "Health": state.health,
            "FinishedAt": state.finished_at.clone().unwrap_or(zero_time),
        },
        "Image": record.image_digest,
        "LogPath": engine.containers.log_path(&record.id),
        "Name": format!("/{}", record.name),
        "RestartCount": state.restart_count,
        "Mounts": spec.mounts.iter().map(|m| mount_json(engine, m)).collect::<Vec<_>>(),
        "Config": {
            "Hostname": spec.hostname,
            "User": spec.user.clone().unwrap_or_default(),
            "Env": spec.env,
            "Cmd": record.command,
            "Image": record.image,
            "WorkingDir": spec.working_dir.clone().unwrap_or_default(),
            "OpenStdin": spec.open_stdin,
            "StopSignal": spec.stop_signal,
            "Healthcheck": spec.health,
        },
        "HostConfig": {
            "AutoRemove": spec.auto_remove,
            "RestartPolicy": { "Name": restart_name, "MaximumRetryCount": restart_max },
            "Memory": limits.memory.unwrap_or(0),
            "PidsLimit": limits.pids,
            "CpusetCpus": limits.cpuset_cpus.clone().unwrap_or_default(),
            "UsernsMode": if spec.user_namespace { "private" } else { "" },
            "NetworkMode": spec.network.mode.name(),
            "Privileged": security.privileged,
            "CapAdd": security.cap_add,
            "CapDrop": security.cap_drop,
            "SecurityOpt": security.security_opt(),
            "ReadonlyRootfs": security.read_only,
            "Devices": devices,
            "MaskedPaths": paths.masked,
            "ReadonlyPaths": paths.read_only,
        },
        "NetworkSettings": { "Networks": networks, "Ports": ports },
    })
}
// ANCHOR_END: inspect

/// One of `inspect`'s `Mounts`, as docker shows it.
fn mount_json(engine: &Engine, mount: &MountSpec) -> serde_json::Value {
    let (kind, name, source) = match &mount.kind {
        MountKind::Bind { source, .. } => ("bind", None, source.clone()),
        MountKind::Volume { name, .. } => ("volume", Some(name.clone()), engine.volumes.data(name)),
        MountKind::Tmpfs { .. } => ("tmpfs", None, std::path::PathBuf::new()),
    };
    serde_json::json!({
        "Type": kind,
        "Name": name,
        "Source": source,
        "Destination": mount.target,
        "RW": !mount.readonly,
    })
}
