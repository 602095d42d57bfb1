//! Hooks: programs the engine asks the runtime to run at set points of a
//! container's life, each given the container's state as JSON on stdin.
//!
//! | kind | when | where it runs |
//! |---|---|---|
//! | `prestart` (old name of the next) | after the namespaces and mounts are made, before pivot_root | the runtime's namespaces |
//! | `createRuntime` | the same moment | the runtime's namespaces |
//! | `createContainer` | right after those | the container's namespaces, before pivot_root |
//! | `startContainer` | at `start`, before the program runs | the container's namespaces, after pivot_root |
//! | `poststart` | after the program started, before `start` returns | the runtime's namespaces |
//! | `poststop` | at `delete` | the runtime's namespaces |
//!
//! A failing hook of the first four stops the container; the last two
//! only warn, as the spec says.

use std::io::Write as _;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oci_spec::runtime::Hook;
use thiserror::Error;

/// Why a hook failed.
#[derive(Debug, Error)]
#[error("hooks.{kind}[{index}] ({path}): {why}")]
pub struct HookError {
    /// Which list.
    pub kind: &'static str,
    /// Its place in the list.
    pub index: usize,
    /// The program.
    pub path: String,
    /// What went wrong.
    pub why: String,
}

// ANCHOR: run
/// Run each hook of `kind` in order, `state` on its stdin; stop at the
/// first that fails.
pub fn run(kind: &'static str, hooks: &[Hook], state: &str) -> Result<(), HookError> {
    for (index, hook) in hooks.iter().enumerate() {
        let fail = |why: String| HookError {
            kind,
            index,
            path: hook.path().display().to_string(),
            why,
        };
        let args = hook.args().as_deref().unwrap_or_default();
        let mut command = Command::new(hook.path());
        if let Some((argv0, rest)) = args.split_first() {
            command.arg0(argv0).args(rest);
        }
        command.env_clear();
        for pair in hook.env().as_deref().unwrap_or_default() {
            if let Some((name, value)) = pair.split_once('=') {
                command.env(name, value);
            }
        }
        let mut child = command
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("cannot run it: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A hook that does not read its stdin closes it: not an error.
            let _ = stdin.write_all(state.as_bytes());
        }
        let deadline = hook
            .timeout()
            .filter(|t| *t > 0)
            .map(|t| Instant::now() + Duration::from_secs(t as u64));
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if deadline.is_some_and(|d| Instant::now() > d) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(fail(format!(
                        "still running after its timeout of {} s",
                        hook.timeout().unwrap_or_default()
                    )));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                Err(e) => return Err(fail(format!("cannot wait for it: {e}"))),
            }
        };
        if !status.success() {
            return Err(fail(format!("it failed ({status})")));
        }
    }
    Ok(())
}
// ANCHOR_END: run
