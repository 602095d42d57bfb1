//! Values of `run`'s flags read as docker reads them: durations,
//! `--restart` policies, `--env-file` files: pure functions, each with
//! the error the flag reports. And chapter 9's security flags, which the
//! runtime checks (`SecuritySpec::from_flags`).

use std::time::Duration;

use cratebox_runtime::containers::RestartPolicy;

/// A duration as docker writes one: `30s`, `500ms`, `1m30s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e}: use e.g. 30s, 500ms or 1m30s"))
}

/// `--restart no|on-failure[:N]|always`.
pub fn parse_restart(text: &str) -> Result<RestartPolicy, String> {
    match text.split_once(':') {
        None if text == "no" => Ok(RestartPolicy::No),
        None if text == "always" => Ok(RestartPolicy::Always),
        None if text == "on-failure" => Ok(RestartPolicy::OnFailure { max: 0 }),
        Some(("on-failure", max)) => max
            .parse()
            .map(|max| RestartPolicy::OnFailure { max })
            .map_err(|_| format!("the most restarts must be a number, not {max:?}")),
        Some(("always" | "no", _)) => Err(format!("{text}: only on-failure takes a count")),
        _ => Err(format!(
            "unknown restart policy {text:?}: use no, on-failure[:MAX] or always"
        )),
    }
}

// ANCHOR: env_file
/// An `--env-file`, read as docker reads it: one `NAME=VALUE` (or a bare
/// `NAME`, taken from our environment) per line; blank lines and lines
/// starting with `#` skipped; no quotes, the value is the rest of the line.
pub fn parse_env_file(text: &str) -> Result<Vec<String>, String> {
    let mut env = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line.split('=').next().unwrap_or_default();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!(
                "line {}: {name:?} is not a variable name (NAME=VALUE, no spaces in NAME)",
                number + 1
            ));
        }
        env.push(line.to_string());
    }
    Ok(env)
}
// ANCHOR_END: env_file

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies_as_docker_writes_them() {
        let parsed: Vec<String> = [
            "no",
            "always",
            "on-failure",
            "on-failure:2",
            "on-failure:x",
            "always:3",
            "sometimes",
        ]
        .iter()
        .map(|text| format!("{text}: {:?}", parse_restart(text)))
        .collect();
        insta::assert_snapshot!(parsed.join("\n"));
    }

    #[test]
    fn env_files_as_docker_reads_them() {
        let text =
            "# settings\nMODE=prod\n\n  GREETING=hello world\nFROM_HOST\nURL=http://x/?a=b\n";
        insta::assert_debug_snapshot!(parse_env_file(text));
        assert!(parse_env_file("BAD NAME=1").is_err());
        assert!(parse_env_file("=value").is_err());
    }
}

// ANCHOR: security_args
/// Chapter 9: what the container's root may do.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Security")]
pub struct SecurityArgs {
    /// Every capability, no seccomp filter, no masked or read-only paths
    #[arg(long)]
    pub privileged: bool,
    /// Add a capability, e.g. NET_ADMIN or SYS_TIME (ALL: every one)
    #[arg(long = "cap-add", value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop a capability, e.g. NET_RAW (ALL: every one)
    #[arg(long = "cap-drop", value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// no-new-privileges[=false], seccomp=FILE or seccomp=unconfined
    #[arg(long = "security-opt", value_name = "OPTION")]
    pub security_opt: Vec<String>,
    /// Mount the container's root file system read-only (use --tmpfs for scratch space)
    #[arg(long)]
    pub read_only: bool,
    /// Give the container a device of the host's: HOST[:CONTAINER[:rwm]]
    #[arg(long = "device", value_name = "DEVICE")]
    pub device: Vec<String>,
}
// ANCHOR_END: security_args

impl SecurityArgs {
    /// The options as the container record keeps them, each checked now.
    pub fn spec(&self) -> anyhow::Result<cratebox_runtime::security::SecuritySpec> {
        Ok(cratebox_runtime::security::SecuritySpec::from_flags(
            self.privileged,
            &self.cap_add,
            &self.cap_drop,
            &self.security_opt,
            self.read_only,
            &self.device,
        )?)
    }
}
