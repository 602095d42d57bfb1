//! Reference solution for exercise 01: namespace names to clone(2) flags.

use nix::sched::CloneFlags;
use thiserror::Error;

/// Every name [`clone_flags_for`] accepts, in the order the error lists them.
/// (`mount` is accepted too, as another spelling of `mnt`.)
pub const NAMES: [&str; 7] = ["uts", "pid", "mnt", "ipc", "net", "cgroup", "user"];

/// A name that is not a namespace. The message names it and lists the valid
/// ones, so whoever typed it knows what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown namespace {name:?}: expected one of {}", NAMES.join(", "))]
pub struct UnknownNamespace {
    /// The name as it was given.
    pub name: String,
}

/// The clone(2) flags that create the namespaces called `names`.
///
/// No names means no flags; a name given twice counts once. The first name
/// that is not a namespace is an error.
pub fn clone_flags_for(names: &[&str]) -> Result<CloneFlags, UnknownNamespace> {
    names.iter().try_fold(CloneFlags::empty(), |flags, name| {
        Ok(flags | flag_for(name)?)
    })
}

/// The flag for one name. A `match` rather than a search through `NAMES`:
/// each arm pairs a name with its flag where a reader sees both, the alias
/// shares its twin's arm, and whatever is left over is the error.
fn flag_for(name: &str) -> Result<CloneFlags, UnknownNamespace> {
    Ok(match name {
        "uts" => CloneFlags::CLONE_NEWUTS,
        "pid" => CloneFlags::CLONE_NEWPID,
        "mnt" | "mount" => CloneFlags::CLONE_NEWNS,
        "ipc" => CloneFlags::CLONE_NEWIPC,
        "net" => CloneFlags::CLONE_NEWNET,
        "cgroup" => CloneFlags::CLONE_NEWCGROUP,
        "user" => CloneFlags::CLONE_NEWUSER,
        _ => {
            return Err(UnknownNamespace {
                name: name.to_string(),
            })
        }
    })
}
