//! `linux.resources` → the files of the container's cgroup, for cgroup
//! v1 or v2: a pure function, snapshot-tested, like chapter 3's. What no
//! version can do is refused first, by field name ([`check`]).
//!
//! `linux.resources.devices` is a list of allow and deny rules: the
//! v1 `devices` controller takes them as lines of `devices.allow` and
//! `devices.deny`; cgroup v2 has no such files, and takes them as an eBPF
//! program attached to the cgroup ([`crate::device_filter`]).

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxResources};
use serde::{Deserialize, Serialize};

use crate::devices::Node;

/// One value for one file of the container's cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The v1 controller whose hierarchy has the file (v2: the same name,
    /// used only to check the controller is enabled).
    pub controller: &'static str,
    /// The file.
    pub file: &'static str,
    /// What to write.
    pub value: String,
    /// The field of `config.json` it comes from, for errors.
    pub field: &'static str,
}

/// Which cgroup interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Version {
    /// One hierarchy per controller.
    V1,
    /// One hierarchy.
    V2,
}

fn w(
    controller: &'static str,
    file: &'static str,
    value: impl ToString,
    field: &'static str,
) -> Write {
    Write {
        controller,
        file,
        value: value.to_string(),
        field,
    }
}

/// Refuse what no version can do, before anything is made. `Err` holds
/// the field and why.
pub fn check(resources: &LinuxResources) -> Result<(), (String, String)> {
    let refuse = |field: &str| {
        Err((
            field.to_string(),
            "not supported by cratebox-runtime; leave it out".to_string(),
        ))
    };
    if resources.block_io().is_some() {
        return refuse("linux.resources.blockIO");
    }
    if resources
        .hugepage_limits()
        .as_ref()
        .is_some_and(|h| !h.is_empty())
    {
        return refuse("linux.resources.hugepageLimits");
    }
    if resources.network().is_some() {
        return refuse("linux.resources.network");
    }
    if resources.rdma().as_ref().is_some_and(|r| !r.is_empty()) {
        return refuse("linux.resources.rdma");
    }
    if let Some(memory) = resources.memory() {
        if memory.kernel().is_some() {
            return refuse("linux.resources.memory.kernel");
        }
    }
    if let Some(cpu) = resources.cpu() {
        if cpu.idle().is_some_and(|i| i != 0) {
            return refuse("linux.resources.cpu.idle");
        }
        if cpu.burst().is_some() {
            return refuse("linux.resources.cpu.burst");
        }
    }
    for (index, rule) in resources
        .devices()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        if let Some(access) = rule.access() {
            if access.is_empty() || !access.chars().all(|c| "rwm".contains(c)) {
                return Err((
                    format!("linux.resources.devices[{index}].access"),
                    format!("{access:?}: use some of r, w and m"),
                ));
            }
        }
    }
    Ok(())
}

// ANCHOR: writes
/// The files to write for `resources`, in order. `Err` names a field that
/// this version cannot honour.
pub fn writes(
    resources: &LinuxResources,
    version: Version,
    nodes: &[Node],
) -> Result<Vec<Write>, String> {
    let mut out = Vec::new();
    let v2 = version == Version::V2;
    if let Some(memory) = resources.memory() {
        let limit = memory.limit();
        if v2 {
            if let Some(limit) = limit {
                out.push(w(
                    "memory",
                    "memory.max",
                    max_or(limit),
                    "linux.resources.memory.limit",
                ));
            }
            if let Some(low) = memory.reservation() {
                out.push(w(
                    "memory",
                    "memory.low",
                    max_or(low),
                    "linux.resources.memory.reservation",
                ));
            }
            if let Some(swap) = memory.swap() {
                // v1's swap limit counts memory and swap together; v2's
                // counts only swap.
                let value = match (swap, limit) {
                    (s, _) if s < 0 => "max".to_string(),
                    (s, Some(l)) if l > 0 => (s - l).max(0).to_string(),
                    (s, _) => s.to_string(),
                };
                out.push(w(
                    "memory",
                    "memory.swap.max",
                    value,
                    "linux.resources.memory.swap",
                ));
            }
            if memory.swappiness().is_some() {
                return Err("linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness; leave it out".into());
            }
            if memory.disable_oom_killer() == Some(true) {
                return Err("linux.resources.memory.disableOOMKiller: cgroup v2 cannot turn the OOM killer off; leave it out".into());
            }
            if memory.kernel_tcp().is_some() {
                return Err("linux.resources.memory.kernelTCP: cgroup v2 has no separate limit for TCP buffers; leave it out".into());
            }
        } else {
            if let Some(limit) = limit {
                out.push(w(
                    "memory",
                    "memory.limit_in_bytes",
                    limit,
                    "linux.resources.memory.limit",
                ));
            }
            if let Some(low) = memory.reservation() {
                out.push(w(
                    "memory",
                    "memory.soft_limit_in_bytes",
                    low,
                    "linux.resources.memory.reservation",
                ));
            }
            if let Some(swap) = memory.swap() {
                out.push(w(
                    "memory",
                    "memory.memsw.limit_in_bytes",
                    swap,
                    "linux.resources.memory.swap",
                ));
            }
            if let Some(swappiness) = memory.swappiness() {
                out.push(w(
                    "memory",
                    "memory.swappiness",
                    swappiness,
                    "linux.resources.memory.swappiness",
                ));
            }
            if memory.disable_oom_killer() == Some(true) {
                out.push(w(
                    "memory",
                    "memory.oom_control",
                    1,
                    "linux.resources.memory.disableOOMKiller",
                ));
            }
            if let Some(tcp) = memory.kernel_tcp() {
                out.push(w(
                    "memory",
                    "memory.kmem.tcp.limit_in_bytes",
                    tcp,
                    "linux.resources.memory.kernelTCP",
                ));
            }
        }
    }
    if let Some(cpu) = resources.cpu() {
        if v2 {
            if let Some(shares) = cpu.shares() {
                // The same mapping as runc and docker: shares 2..262144
                // onto weights 1..10000.
                let weight = 1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142;
                out.push(w("cpu", "cpu.weight", weight, "linux.resources.cpu.shares"));
            }
            if cpu.quota().is_some() || cpu.period().is_some() {
                let quota = match cpu.quota() {
                    Some(q) if q > 0 => q.to_string(),
                    _ => "max".to_string(),
                };
                let period = cpu.period().unwrap_or(100_000);
                out.push(w(
                    "cpu",
                    "cpu.max",
                    format!("{quota} {period}"),
                    "linux.resources.cpu.quota",
                ));
            }
            if cpu.realtime_runtime().is_some() || cpu.realtime_period().is_some() {
                return Err("linux.resources.cpu.realtimeRuntime: cgroup v2 has no real-time budget; leave it out".into());
            }
        } else {
            if let Some(shares) = cpu.shares() {
                out.push(w("cpu", "cpu.shares", shares, "linux.resources.cpu.shares"));
            }
            // The period first: a quota is checked against it.
            if let Some(period) = cpu.period() {
                out.push(w(
                    "cpu",
                    "cpu.cfs_period_us",
                    period,
                    "linux.resources.cpu.period",
                ));
            }
            if let Some(quota) = cpu.quota() {
                out.push(w(
                    "cpu",
                    "cpu.cfs_quota_us",
                    quota,
                    "linux.resources.cpu.quota",
                ));
            }
            if let Some(period) = cpu.realtime_period() {
                out.push(w(
                    "cpu",
                    "cpu.rt_period_us",
                    period,
                    "linux.resources.cpu.realtimePeriod",
                ));
            }
            if let Some(runtime) = cpu.realtime_runtime() {
                out.push(w(
                    "cpu",
                    "cpu.rt_runtime_us",
                    runtime,
                    "linux.resources.cpu.realtimeRuntime",
                ));
            }
        }
        if let Some(cpus) = cpu.cpus().as_ref().filter(|c| !c.is_empty()) {
            out.push(w("cpuset", "cpuset.cpus", cpus, "linux.resources.cpu.cpus"));
        }
        if let Some(mems) = cpu.mems().as_ref().filter(|m| !m.is_empty()) {
            out.push(w("cpuset", "cpuset.mems", mems, "linux.resources.cpu.mems"));
        }
    }
    if let Some(pids) = resources.pids() {
        out.push(w(
            "pids",
            "pids.max",
            max_or(pids.limit()),
            "linux.resources.pids.limit",
        ));
    }
    let rules = resources.devices().as_deref().unwrap_or_default();
    // v2 has no files for these: see [`crate::device_filter`].
    if !rules.is_empty() && !v2 {
        for rule in rules {
            let file = if rule.allow() {
                "devices.allow"
            } else {
                "devices.deny"
            };
            out.push(w(
                "devices",
                file,
                device_rule(rule),
                "linux.resources.devices",
            ));
        }
        for rule in own_nodes(nodes) {
            out.push(w(
                "devices",
                "devices.allow",
                device_rule(&rule),
                "linux.devices",
            ));
        }
    }
    if let Some(unified) = resources.unified() {
        if !unified.is_empty() {
            return Err("linux.resources.unified: raw cgroup v2 files are not supported; use the typed fields".into());
        }
    }
    Ok(out)
}
// ANCHOR_END: writes

/// `-1` (no limit) as v2 writes it.
fn max_or(value: i64) -> String {
    if value < 0 {
        "max".to_string()
    } else {
        value.to_string()
    }
}

/// A rule as v1's `devices.allow` reads it: `c 1:3 rwm`, `a *:* rwm`.
pub fn device_rule(rule: &LinuxDeviceCgroup) -> String {
    let kind = rule.typ().map_or("a", |t| match t.as_str() {
        "b" => "b",
        "c" | "u" => "c",
        _ => "a",
    });
    let number = |n: Option<i64>| {
        n.filter(|n| *n >= 0)
            .map_or("*".to_string(), |n| n.to_string())
    };
    let access = rule.access().clone().unwrap_or_else(|| "rwm".to_string());
    format!(
        "{kind} {}:{} {access}",
        number(rule.major()),
        number(rule.minor())
    )
}

/// Rules that keep the nodes the runtime itself makes in /dev usable,
/// whatever the config's rules say (runc adds the same), and the
/// pseudo-terminals: appended after the config's own.
pub fn own_nodes(nodes: &[Node]) -> Vec<LinuxDeviceCgroup> {
    let rule = |kind: &str, major: i64, minor: Option<i64>| {
        serde_json::from_value(serde_json::json!({
            "allow": true, "type": kind, "major": major, "minor": minor, "access": "rwm"
        }))
        .expect("a rule")
    };
    let mut rules: Vec<LinuxDeviceCgroup> = nodes
        .iter()
        .map(|n| {
            rule(
                if n.kind == 'b' { "b" } else { "c" },
                n.major as i64,
                Some(n.minor as i64),
            )
        })
        .collect();
    rules.push(rule("c", 136, None));
    rules.push(rule("c", 5, Some(2)));
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESOURCES: &str = r#"{
        "devices": [{"allow": false, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 136, "access": "rwm"}],
        "memory": {"limit": 268435456, "reservation": 134217728, "swap": 536870912},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
        "pids": {"limit": 64}
    }"#;

    fn table(version: Version) -> String {
        let resources: LinuxResources = serde_json::from_str(RESOURCES).expect("resources");
        let nodes = crate::devices::default_nodes();
        match writes(&resources, version, &nodes) {
            Ok(writes) => writes
                .iter()
                .map(|w| {
                    format!(
                        "{:<8} {:<28} {:<12} ({})\n",
                        w.controller, w.file, w.value, w.field
                    )
                })
                .collect(),
            Err(error) => error,
        }
    }

    #[test]
    fn files_for_v1() {
        insta::assert_snapshot!(table(Version::V1));
    }

    #[test]
    fn files_for_v2() {
        insta::assert_snapshot!(table(Version::V2));
    }
}
