//! Reference solution for exercise 17: docker's `-v`, read into a mount.

use std::path::PathBuf;

pub use cratebox_runtime::containers::valid_name;
pub use cratebox_runtime::volumes::{MountKind, MountSpec};

/// `-v SOURCE:TARGET[:ro|rw]` or `-v TARGET`, as a [`MountSpec`].
pub fn parse_volume(value: &str, anonymous_name: &str) -> Result<MountSpec, String> {
    let parts: Vec<&str> = value.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [target] => (None, *target, None),
        [source, target] => (Some(*source), *target, None),
        [source, target, mode] => (Some(*source), *target, Some(*mode)),
        _ => return Err("use SOURCE:TARGET[:ro], or TARGET alone".into()),
    };
    if !target.starts_with('/') {
        return Err(format!(
            "{target}: the path inside the container must be absolute"
        ));
    }
    let readonly = match mode {
        None | Some("rw") => false,
        Some("ro") => true,
        Some(other) => return Err(format!("unknown mode {other:?}: use ro or rw")),
    };
    let kind = match source {
        None => MountKind::Volume {
            name: anonymous_name.to_string(),
            anonymous: true,
        },
        Some(path) if path.starts_with('/') => MountKind::Bind {
            source: PathBuf::from(path),
            create: true,
        },
        Some(name) if valid_name(name) => MountKind::Volume {
            name: name.to_string(),
            anonymous: false,
        },
        Some(other) => {
            return Err(format!(
                "{other:?} is neither a host path nor a volume name"
            ))
        }
    };
    Ok(MountSpec {
        kind,
        target: target.to_string(),
        readonly,
    })
}
