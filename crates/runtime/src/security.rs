//! Chapter 9: a container's security options, as `run` is given them and
//! as the container record keeps them.
//!
//! Everything is checked when the container is created (a bad capability
//! name, an unreadable seccomp profile, a `--device` that is no device),
//! so `start` and `--restart` cannot fail on it later. A seccomp file is
//! read then, and its text kept in the record, as docker keeps it: editing
//! or deleting the file afterwards changes nothing for that container.

use std::sync::Arc;

use cratebox_sandbox::capabilities::{self, Capabilities, UnknownCapability};
use cratebox_sandbox::devices::{DeviceError, HostDevice};
use cratebox_sandbox::paths::PathRules;
use cratebox_sandbox::security::ProcessSecurity;
use cratebox_seccomp::{Profile, Target};
use serde::{Deserialize, Serialize};
use thiserror::Error;

// ANCHOR: spec
/// `--privileged`, `--cap-add`, `--cap-drop`, `--security-opt`,
/// `--read-only` and `--device`. The default is docker's default: 14
/// capabilities, no_new_privs, its seccomp profile, masked paths.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecuritySpec {
    /// Every capability, no seccomp filter, no masked paths.
    pub privileged: bool,
    /// `--cap-add`, as given.
    pub cap_add: Vec<String>,
    /// `--cap-drop`, as given.
    pub cap_drop: Vec<String>,
    /// `--security-opt no-new-privileges=false` turns it off; unset, it is
    /// on (unless privileged).
    pub no_new_privileges: Option<bool>,
    /// The seccomp profile.
    pub seccomp: Seccomp,
    /// `--read-only`: the root file system cannot be written.
    pub read_only: bool,
    /// `--device`, as given.
    pub devices: Vec<String>,
}

/// Which seccomp profile a container runs under.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Seccomp {
    /// docker's default profile (shipped with cratebox).
    #[default]
    Default,
    /// `--security-opt seccomp=unconfined`: no filter.
    Unconfined,
    /// `--security-opt seccomp=FILE`: that file's text, read at create.
    Profile {
        /// Where it was read from, for `inspect`.
        path: String,
        /// The JSON itself.
        json: String,
    },
}
// ANCHOR_END: spec

/// A security option that cannot be used.
#[derive(Debug, Error)]
pub enum SecurityError {
    /// `--cap-add`/`--cap-drop` with a name that is no capability.
    #[error(transparent)]
    Capability(#[from] UnknownCapability),
    /// A `--security-opt` cratebox does not know.
    #[error("--security-opt {0:?}: cratebox knows no-new-privileges[=true|false] and seccomp=FILE|unconfined")]
    UnknownOption(String),
    /// The seccomp profile cannot be read or compiled.
    #[error("{0}")]
    Seccomp(String),
    /// A `--device` that names no device.
    #[error(transparent)]
    Device(#[from] DeviceError),
}

impl SecuritySpec {
    /// Read the command line's options; every one is checked now.
    pub fn from_flags(
        privileged: bool,
        cap_add: &[String],
        cap_drop: &[String],
        security_opt: &[String],
        read_only: bool,
        devices: &[String],
    ) -> Result<SecuritySpec, SecurityError> {
        capabilities::check_names(cap_add)?;
        capabilities::check_names(cap_drop)?;
        let mut spec = SecuritySpec {
            privileged,
            cap_add: cap_add.to_vec(),
            cap_drop: cap_drop.to_vec(),
            read_only,
            devices: devices.to_vec(),
            ..SecuritySpec::default()
        };
        for option in security_opt {
            // docker takes both `key=value` and the older `key:value`.
            let (key, value) = option
                .split_once(['=', ':'])
                .map_or((option.as_str(), None), |(k, v)| (k, Some(v)));
            match (key, value) {
                ("no-new-privileges", None | Some("true")) => spec.no_new_privileges = Some(true),
                ("no-new-privileges", Some("false")) => spec.no_new_privileges = Some(false),
                ("seccomp", Some("unconfined")) => spec.seccomp = Seccomp::Unconfined,
                ("seccomp", Some(path)) if !path.is_empty() => {
                    let json = std::fs::read_to_string(path).map_err(|e| {
                        SecurityError::Seccomp(format!(
                            "cannot read the seccomp profile {path}: {e}: give a JSON file in docker's format, or seccomp=unconfined"
                        ))
                    })?;
                    let path = std::fs::canonicalize(path)
                        .map_or_else(|_| path.to_string(), |p| p.display().to_string());
                    spec.seccomp = Seccomp::Profile { path, json };
                }
                _ => return Err(SecurityError::UnknownOption(option.clone())),
            }
        }
        for device in devices {
            HostDevice::parse(device)?;
        }
        // A profile of one's own is compiled once now, so that a broken one
        // fails `create`; docker's, shipped with cratebox, needs no check.
        if matches!(spec.seccomp, Seccomp::Profile { .. }) {
            spec.process()?;
        }
        Ok(spec)
    }

    /// The capabilities the container's processes keep.
    /// `--privileged` is every capability, whatever the adds and drops say
    /// (as in docker).
    pub fn capabilities(&self) -> Result<Capabilities, SecurityError> {
        match self.privileged {
            true => Ok(Capabilities::all()),
            false => {
                Ok(Capabilities::docker_default().with_changes(&self.cap_add, &self.cap_drop)?)
            }
        }
    }

    // ANCHOR: process
    /// Capabilities, no_new_privs and seccomp for the container's processes
    /// (its command, and every `exec`).
    pub fn process(&self) -> Result<ProcessSecurity, SecurityError> {
        let capabilities = self.capabilities()?;
        let profile = match (&self.seccomp, self.privileged) {
            (Seccomp::Unconfined, _) | (_, true) => None,
            (Seccomp::Default, false) => Some(Profile::docker_default()),
            (Seccomp::Profile { path, json }, false) => Some(
                Profile::from_json(json)
                    .map_err(|e| SecurityError::Seccomp(format!("{path}: {e}")))?,
            ),
        };
        let seccomp = match profile {
            None => None,
            Some(profile) => {
                // A rule may depend on the capabilities: docker's profile
                // allows mount(2) only to a container with CAP_SYS_ADMIN.
                let target = Target::host(capabilities.names());
                let filter = profile
                    .compile(&target)
                    .map_err(|e| SecurityError::Seccomp(e.to_string()))?;
                Some(Arc::new(filter))
            }
        };
        Ok(ProcessSecurity {
            capabilities: Some(capabilities),
            no_new_privileges: self.no_new_privileges.unwrap_or(!self.privileged),
            seccomp,
        })
    }
    // ANCHOR_END: process

    /// The paths to hide and to make read-only.
    pub fn paths(&self) -> PathRules {
        let mut rules = match self.privileged {
            true => PathRules::default(),
            false => PathRules::docker(),
        };
        rules.read_only_root = self.read_only;
        rules
    }

    /// The `--device` nodes, looked up again on the host (a device may
    /// have come or gone since the container was created).
    pub fn host_devices(&self) -> Result<Vec<HostDevice>, SecurityError> {
        Ok(self
            .devices
            .iter()
            .map(|spec| HostDevice::parse(spec))
            .collect::<Result<_, _>>()?)
    }

    /// `inspect`'s `SecurityOpt`, as docker writes it.
    pub fn security_opt(&self) -> Vec<String> {
        let mut options = Vec::new();
        match self.no_new_privileges {
            Some(true) => options.push("no-new-privileges".to_string()),
            Some(false) => options.push("no-new-privileges=false".to_string()),
            None => {}
        }
        match &self.seccomp {
            Seccomp::Default => {}
            Seccomp::Unconfined => options.push("seccomp=unconfined".to_string()),
            Seccomp::Profile { path, .. } => options.push(format!("seccomp={path}")),
        }
        options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(opts: &[&str]) -> Result<SecuritySpec, SecurityError> {
        let opts: Vec<String> = opts.iter().map(|s| s.to_string()).collect();
        SecuritySpec::from_flags(false, &[], &[], &opts, false, &[])
    }

    #[test]
    fn the_default_is_dockers_default() {
        let process = SecuritySpec::default().process().unwrap();
        assert_eq!(process.capabilities, Some(Capabilities::docker_default()));
        assert!(process.no_new_privileges);
        assert!(process.seccomp.is_some());
        assert_eq!(SecuritySpec::default().paths(), PathRules::docker());
    }

    #[test]
    fn privileged_lifts_every_limit() {
        let spec = SecuritySpec {
            privileged: true,
            ..SecuritySpec::default()
        };
        let process = spec.process().unwrap();
        assert_eq!(process.capabilities, Some(Capabilities::all()));
        assert!(!process.no_new_privileges);
        assert!(process.seccomp.is_none());
        assert_eq!(spec.paths(), PathRules::default());
    }

    #[test]
    fn security_options_in_both_spellings() {
        let spec = flags(&["no-new-privileges:false", "seccomp=unconfined"]).unwrap();
        assert_eq!(spec.no_new_privileges, Some(false));
        assert_eq!(spec.seccomp, Seccomp::Unconfined);
        assert_eq!(
            spec.security_opt(),
            ["no-new-privileges=false", "seccomp=unconfined"]
        );
        assert!(!spec.process().unwrap().no_new_privileges);
    }

    #[test]
    fn bad_options_are_refused_with_what_to_do() {
        let message = |opts: &[&str]| flags(opts).unwrap_err().to_string();
        assert_eq!(
            message(&["apparmor=unconfined"]),
            "--security-opt \"apparmor=unconfined\": cratebox knows no-new-privileges[=true|false] and seccomp=FILE|unconfined"
        );
        assert!(message(&["seccomp=/no/such/profile.json"])
            .starts_with("cannot read the seccomp profile /no/such/profile.json: "));
        let bad_cap = SecuritySpec::from_flags(false, &["SYS_BOGUS".into()], &[], &[], false, &[]);
        assert!(bad_cap
            .unwrap_err()
            .to_string()
            .starts_with("unknown capability \"SYS_BOGUS\""));
        let bad_device =
            SecuritySpec::from_flags(false, &[], &[], &[], false, &["/etc/passwd".into()]);
        assert!(bad_device
            .unwrap_err()
            .to_string()
            .contains("/etc/passwd is not a device node"));
    }
}
