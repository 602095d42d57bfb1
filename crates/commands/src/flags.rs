//! Values of `run`'s flags read as docker reads them: durations,
//! `--restart` policies, `--env-file` files. Pure functions, each with
//! the error the flag reports.

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
