//! A bundle: a directory holding `config.json` and, usually, the root file
//! system it names. Reading it is where most bad input is caught, each
//! error naming the field of `config.json` at fault.
//!
//! Parsing uses the `oci-spec` crate's types, through `serde_path_to_error`
//! so that a wrong value is reported with its place
//! (`linux.namespaces[2].type: unknown variant "foo"`). Then [`check`]
//! refuses, by name, every field this runtime would otherwise have to
//! ignore: a container must never run with less isolation than asked.

use std::fs;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxNamespaceType, Process, Spec};
use thiserror::Error;

use crate::namespaces::{self, NamespacePlan};

/// Why a bundle cannot be used.
#[derive(Debug, Error)]
pub enum BundleError {
    /// No `config.json` to read.
    #[error("cannot read {path}: {source} (a bundle is a directory with config.json and the root file system; `--bundle` names it)")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not JSON, or a value of the wrong kind.
    #[error("config.json: {field}: {message}")]
    Malformed {
        /// Where in the document, `.` for the whole of it.
        field: String,
        /// What serde said.
        message: String,
    },
    /// A field with a value this runtime cannot use.
    #[error("config.json: {field}: {message}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong, and what would do.
        message: String,
    },
    /// A field this runtime does not implement.
    #[error("config.json: {field} is not supported by cratebox-runtime{}", .hint.as_ref().map(|h| format!(": {h}")).unwrap_or_default())]
    Unsupported {
        /// The field.
        field: String,
        /// What to do instead, if there is something.
        hint: Option<String>,
    },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> BundleError {
    BundleError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn unsupported(field: impl Into<String>, hint: Option<&str>) -> BundleError {
    BundleError::Unsupported {
        field: field.into(),
        hint: hint.map(str::to_string),
    }
}

/// A bundle, read and checked.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The bundle directory, absolute.
    pub dir: PathBuf,
    /// Its `config.json`.
    pub spec: Spec,
    /// The root file system, absolute.
    pub rootfs: PathBuf,
    /// `linux.namespaces`, sorted into new and joined.
    pub namespaces: NamespacePlan,
    /// Whether the config names a process. The spec lets `create` go
    /// without one (`start` must then fail): [`Bundle::process`] is a
    /// stand-in that runs nothing.
    pub has_process: bool,
}

impl Bundle {
    /// The config's annotations, sorted.
    pub fn annotations(&self) -> std::collections::BTreeMap<String, String> {
        self.spec
            .annotations()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect()
    }

    /// The process to run, or the stand-in [`load`] put in its place.
    pub fn process(&self) -> &Process {
        self.spec
            .process()
            .as_ref()
            .expect("load puts a stand-in where the config has no process")
    }
}

// ANCHOR: load
/// Read and check the bundle in `dir`.
pub fn load(dir: &Path) -> Result<Bundle, BundleError> {
    let dir = std::path::absolute(dir).map_err(|source| BundleError::Unreadable {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join("config.json");
    let text = fs::read_to_string(&path).map_err(|source| BundleError::Unreadable {
        path: path.clone(),
        source,
    })?;
    let mut spec = parse(&text)?;
    let namespaces = check(&spec)?;
    let has_process = spec.process().is_some();
    if !has_process {
        // Root in `/`, nothing else: no program, no privileges to set.
        let stand_in = serde_json::json!({"cwd": "/", "user": {"uid": 0, "gid": 0}});
        spec.set_process(Some(serde_json::from_value(stand_in).expect("a process")));
    }
    let root = spec.root().as_ref().ok_or_else(|| {
        invalid(
            "root",
            "missing: name the root file system, e.g. \"root\": {\"path\": \"rootfs\"}",
        )
    })?;
    let rootfs = dir.join(root.path());
    if !rootfs.is_dir() {
        return Err(invalid(
            "root.path",
            format!(
                "{} is not a directory: unpack the image's file system there (e.g. with umoci unpack)",
                rootfs.display()
            ),
        ));
    }
    Ok(Bundle {
        dir,
        spec,
        rootfs,
        namespaces,
        has_process,
    })
}
// ANCHOR_END: load

/// Parse `config.json`, naming the field of any error.
pub fn parse(text: &str) -> Result<Spec, BundleError> {
    let deserializer = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let field = error.path().to_string();
        BundleError::Malformed {
            field: if field == "." {
                "(the document)".to_string()
            } else {
                field
            },
            message: error.into_inner().to_string(),
        }
    })
}

// ANCHOR: check
/// Refuse what cannot be honoured, by field name; return the namespaces.
pub fn check(spec: &Spec) -> Result<NamespacePlan, BundleError> {
    if !spec.version().starts_with("1.") {
        return Err(invalid(
            "ociVersion",
            format!(
                "{:?}: this runtime implements version 1 of the spec",
                spec.version()
            ),
        ));
    }
    // Optional at create; `start` refuses a container made without one.
    if let Some(process) = spec.process() {
        check_process(process)?;
    }
    if spec.solaris().is_some() || spec.windows().is_some() || spec.vm().is_some() {
        return Err(unsupported(
            "solaris/windows/vm",
            Some("this runtime runs Linux containers only"),
        ));
    }
    let linux = spec
        .linux()
        .as_ref()
        .ok_or_else(|| invalid("linux", "missing: a Linux container needs this section"))?;
    let plan =
        namespaces::plan(linux.namespaces().as_deref().unwrap_or_default()).map_err(|error| {
            invalid(
                "linux.namespaces",
                error.to_string().replacen("linux.namespaces: ", "", 1),
            )
        })?;
    if !plan.has(nix::sched::CloneFlags::CLONE_NEWNS) {
        return Err(invalid(
            "linux.namespaces",
            "no mount namespace: the container's root and mounts would be made in the host's; add {\"type\": \"mount\"}",
        ));
    }
    let has_user = plan.has(nix::sched::CloneFlags::CLONE_NEWUSER);
    let maps = linux.uid_mappings().as_ref().is_some_and(|m| !m.is_empty())
        || linux.gid_mappings().as_ref().is_some_and(|m| !m.is_empty());
    if plan.unshare.contains(nix::sched::CloneFlags::CLONE_NEWUSER) && !maps {
        return Err(invalid(
            "linux.uidMappings",
            "a new user namespace needs uidMappings and gidMappings",
        ));
    }
    if maps && !has_user {
        return Err(invalid(
            "linux.uidMappings",
            "id mappings need a user namespace: add {\"type\": \"user\"} to linux.namespaces",
        ));
    }
    if let Some(hostname) = spec.hostname() {
        if !hostname.is_empty() && !plan.has(nix::sched::CloneFlags::CLONE_NEWUTS) {
            return Err(invalid(
                "hostname",
                "setting a hostname needs a UTS namespace: add {\"type\": \"uts\"} to linux.namespaces",
            ));
        }
    }
    if let Some(path) = linux.cgroups_path() {
        if path
            .components()
            .any(|c| c == std::path::Component::ParentDir)
        {
            return Err(invalid(
                "linux.cgroupsPath",
                format!("{}: '..' would leave the cgroup hierarchy", path.display()),
            ));
        }
    }
    for (name, present) in [
        ("linux.intelRdt", linux.intel_rdt().is_some()),
        ("linux.personality", linux.personality().is_some()),
        ("linux.timeOffsets", linux.time_offsets().is_some()),
        (
            "linux.mountLabel",
            linux.mount_label().as_ref().is_some_and(|l| !l.is_empty()),
        ),
    ] {
        if present {
            return Err(unsupported(name, None));
        }
    }
    if let Some(seccomp) = linux.seccomp() {
        if seccomp.listener_path().is_some() {
            return Err(unsupported(
                "linux.seccomp.listenerPath",
                Some("SCMP_ACT_NOTIFY needs a seccomp agent, which this runtime does not have"),
            ));
        }
        if seccomp.flags().as_ref().is_some_and(|f| !f.is_empty()) {
            return Err(unsupported("linux.seccomp.flags", None));
        }
    }
    if let Some(propagation) = linux.rootfs_propagation() {
        if !propagation.is_empty() && crate::mount_options::propagation(propagation).is_none() {
            return Err(invalid(
                "linux.rootfsPropagation",
                format!(
                    "{propagation:?}: use shared, slave, private or unbindable (r- for recursive)"
                ),
            ));
        }
    }
    for (index, mount) in spec
        .mounts()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let options = mount.options().as_deref().unwrap_or_default();
        crate::mount_options::parse(options)
            .map_err(|message| invalid(format!("mounts[{index}].options"), message))?;
        if !mount.destination().is_absolute() {
            return Err(invalid(
                format!("mounts[{index}].destination"),
                format!(
                    "{}: must be an absolute path",
                    mount.destination().display()
                ),
            ));
        }
    }
    if let Some(resources) = linux.resources() {
        crate::resources::check(resources).map_err(|(field, message)| invalid(field, message))?;
    }
    // Only the kinds this kernel has: a time namespace needs Linux 5.6.
    if plan.has(namespaces::clone_flag(LinuxNamespaceType::Time))
        && !Path::new("/proc/self/ns/time").exists()
    {
        return Err(unsupported(
            "linux.namespaces: \"time\"",
            Some("this kernel has no time namespaces (Linux 5.6 or later)"),
        ));
    }
    Ok(plan)
}
// ANCHOR_END: check

/// The parts of `process` that this runtime does not implement.
pub fn check_process(process: &Process) -> Result<(), BundleError> {
    if process.args().as_ref().is_none_or(|a| a.is_empty()) {
        return Err(invalid(
            "process.args",
            "missing or empty: name the program to run",
        ));
    }
    if !process.cwd().is_absolute() {
        return Err(invalid(
            "process.cwd",
            format!("{}: must be an absolute path", process.cwd().display()),
        ));
    }
    for (name, present, hint) in [
        (
            "process.apparmorProfile",
            process
                .apparmor_profile()
                .as_ref()
                .is_some_and(|p| !p.is_empty()),
            Some("this runtime has no AppArmor support; leave it out"),
        ),
        (
            "process.selinuxLabel",
            process
                .selinux_label()
                .as_ref()
                .is_some_and(|l| !l.is_empty()),
            Some("this runtime has no SELinux support; leave it out"),
        ),
        ("process.ioPriority", process.io_priority().is_some(), None),
        ("process.scheduler", process.scheduler().is_some(), None),
        (
            "process.execCPUAffinity",
            process.exec_cpu_affinity().is_some(),
            None,
        ),
        (
            "process.commandLine",
            process.command_line().is_some(),
            Some("it is for Windows"),
        ),
    ] {
        if present {
            return Err(unsupported(name, hint));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},
        "process":{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0}},
        "linux":{"namespaces":[{"type":"pid"},{"type":"mount"}]}}"#;

    fn error_of(json: &str) -> String {
        match parse(json).and_then(|spec| check(&spec).map(|_| ())) {
            Ok(()) => "accepted".to_string(),
            Err(error) => error.to_string(),
        }
    }

    fn with(change: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut value: serde_json::Value = serde_json::from_str(MINIMAL).expect("json");
        change(&mut value);
        error_of(&value.to_string())
    }

    #[test]
    fn the_minimal_config_is_accepted() {
        assert_eq!(error_of(MINIMAL), "accepted");
    }

    #[test]
    fn each_bad_config_names_its_field() {
        let lines = [
            error_of("{\"ociVersion\": \"1.0.2\", \"root\": "),
            error_of("[1, 2]"),
            with(|v| v["linux"]["namespaces"][0]["type"] = "pdi".into()),
            with(|v| v["process"]["user"]["uid"] = "root".into()),
            with(|v| v["ociVersion"] = "0.9".into()),
            with(|v| v["process"]["args"] = serde_json::json!([])),
            with(|v| v["process"]["apparmorProfile"] = "docker-default".into()),
            with(|v| v["linux"]["intelRdt"] = serde_json::json!({"closID": "x"})),
            with(|v| v["linux"]["namespaces"] = serde_json::json!([{"type": "user"}])),
            with(|v| v["hostname"] = "box".into()),
            with(
                |v| v["mounts"] = serde_json::json!([{"destination": "/data", "type": "bind", "source": "/srv", "options": ["rbind", "idmap"]}]),
            ),
            with(|v| {
                v["mounts"] =
                    serde_json::json!([{"destination": "data", "type": "tmpfs", "source": "tmpfs"}])
            }),
            with(|v| v["linux"]["cgroupsPath"] = "/a/../../b".into()),
            with(|v| v["linux"]["rootfsPropagation"] = "sideways".into()),
            with(|v| v["linux"]["resources"] = serde_json::json!({"blockIO": {"weight": 10}})),
            with(
                |v| v["linux"]["seccomp"] = serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock"}),
            ),
            with(|v| v["linux"]["namespaces"] = serde_json::json!([{"type": "pid"}])),
        ];
        insta::assert_snapshot!(lines.join("\n"));
    }
}
