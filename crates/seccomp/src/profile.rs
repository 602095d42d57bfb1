//! docker's seccomp profile format, read into checked data.
//!
//! The format is JSON (docs.docker.com, "Seccomp security profiles for
//! Docker"): a `defaultAction` for every call no entry names, then
//! `syscalls`, a list of entries that each give some names an action,
//! perhaps only when arguments compare a certain way, perhaps only for
//! containers with some capability:
//!
//! ```json
//! { "names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
//!   "excludes": { "caps": ["CAP_SYS_ADMIN"] } }
//! ```
//!
//! Reading happens in two steps. serde reads the JSON into `Raw*` structs
//! that mirror it field for field, optional where docker's are (and `null`
//! where docker writes `null`); unknown fields are ignored, as docker does.
//! Then [`Profile::from_json`] checks each entry and turns the strings into
//! types — [`Action`], [`Op`], kernel versions — so that a typo is an error
//! with the entry's place, not a surprise when a container starts.

use std::path::Path;

use serde::Deserialize;

use crate::action::{parse_action, Action, MAX_ERRNO};
use crate::error::{Place, ProfileError, ProfileErrorKind};
use crate::target::parse_kernel_version;

/// The profile cratebox uses unless told otherwise: docker's rules, written
/// out in `profiles/default.json` with a comment on each entry.
const DEFAULT_PROFILE: &str = include_str!("../profiles/default.json");

/// A seccomp profile, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// What happens to a call that no entry applies to.
    pub default_action: Action,
    /// The profile's `architectures`, or every name in its `archMap`. Kept
    /// to be shown; the compiler filters only the target's native ABI and
    /// gives every other one the default action (see `compile`).
    pub architectures: Vec<String>,
    /// The entries, in the profile's order, which matters: for each call,
    /// the first entry whose arguments match decides.
    pub entries: Vec<Entry>,
}

/// One entry of `syscalls`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The calls it is about. Names the target architecture does not have
    /// are skipped when compiling, as libseccomp skips them.
    pub names: Vec<String>,
    /// What happens to them.
    pub action: Action,
    /// Checks on the call's arguments, all of which must hold. Empty: the
    /// entry applies whatever the arguments are.
    pub args: Vec<ArgCheck>,
    /// The entry is used only if all of these hold for the container.
    pub includes: Condition,
    /// The entry is left out if any of these holds for the container.
    pub excludes: Condition,
    /// The profile's own explanation, if it has one.
    pub comment: Option<String>,
}

/// A test on one argument of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgCheck {
    /// Which argument, 0 to 5.
    pub index: u8,
    /// How it is compared.
    pub op: Op,
}

/// A comparison of a 64-bit argument, unsigned, as libseccomp makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `SCMP_CMP_NE`
    Ne(u64),
    /// `SCMP_CMP_LT`
    Lt(u64),
    /// `SCMP_CMP_LE`
    Le(u64),
    /// `SCMP_CMP_EQ`
    Eq(u64),
    /// `SCMP_CMP_GE`
    Ge(u64),
    /// `SCMP_CMP_GT`
    Gt(u64),
    /// `SCMP_CMP_MASKED_EQ`: `arg & mask == value`. In the JSON the mask is
    /// `value` and the value is `valueTwo`, which is easy to get backwards.
    MaskedEq {
        /// The bits looked at.
        mask: u64,
        /// What they must be.
        value: u64,
    },
}

impl Op {
    /// Whether `arg` passes: what the compiled filter computes with 32-bit
    /// words, written plainly, so that tests can hold one against the other.
    pub fn holds(self, arg: u64) -> bool {
        match self {
            Op::Ne(v) => arg != v,
            Op::Lt(v) => arg < v,
            Op::Le(v) => arg <= v,
            Op::Eq(v) => arg == v,
            Op::Ge(v) => arg >= v,
            Op::Gt(v) => arg > v,
            Op::MaskedEq { mask, value } => arg & mask == value,
        }
    }
}

/// An entry's `includes` or `excludes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Condition {
    /// Capabilities, written `CAP_SYS_ADMIN`.
    pub caps: Vec<String>,
    /// Architectures, in docker's names: `amd64`, `arm64`, ...
    pub arches: Vec<String>,
    /// A kernel version, (major, minor): the running kernel is at least it.
    pub min_kernel: Option<(u32, u32)>,
}

impl Condition {
    /// Whether the condition lists nothing.
    pub fn is_empty(&self) -> bool {
        self.caps.is_empty() && self.arches.is_empty() && self.min_kernel.is_none()
    }
}

impl Profile {
    /// docker's default profile, as shipped in `profiles/default.json`.
    pub fn docker_default() -> Profile {
        Profile::from_json(DEFAULT_PROFILE)
            .expect("the shipped default profile is valid: a unit test parses it")
    }

    /// Reads a profile from its JSON text.
    pub fn from_json(text: &str) -> Result<Profile, ProfileError> {
        let raw: RawProfile =
            serde_json::from_str(text).map_err(|e| error(ProfileErrorKind::Json(e)))?;
        raw.check().map_err(error)
    }

    /// Reads a profile from a file; the error names the file.
    pub fn read(path: &Path) -> Result<Profile, ProfileError> {
        let in_file = |kind| ProfileError {
            file: Some(path.to_path_buf()),
            kind,
        };
        let text = std::fs::read_to_string(path).map_err(|e| in_file(ProfileErrorKind::Read(e)))?;
        Profile::from_json(&text).map_err(|e| in_file(e.kind))
    }
}

fn error(kind: ProfileErrorKind) -> ProfileError {
    ProfileError { file: None, kind }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProfile {
    default_action: String,
    default_errno_ret: Option<u64>,
    architectures: Option<Vec<String>>,
    arch_map: Option<Vec<RawArchGroup>>,
    syscalls: Option<Vec<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawArchGroup {
    architecture: String,
    sub_architectures: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    names: Option<Vec<String>>,
    /// The one-name form of docker's first profiles.
    name: Option<String>,
    action: String,
    errno_ret: Option<u64>,
    args: Option<Vec<RawArg>>,
    includes: Option<RawCondition>,
    excludes: Option<RawCondition>,
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawArg {
    index: u64,
    value: u64,
    #[serde(default)]
    value_two: u64,
    op: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawCondition {
    caps: Option<Vec<String>>,
    arches: Option<Vec<String>>,
    min_kernel: Option<String>,
}

impl RawProfile {
    fn check(self) -> Result<Profile, ProfileErrorKind> {
        let default_errno = check_errno(self.default_errno_ret, &Place::Default)?;
        let default_action =
            parse_action(&self.default_action, default_errno).ok_or_else(|| {
                ProfileErrorKind::UnknownAction {
                    place: Place::Default,
                    action: self.default_action.clone(),
                }
            })?;

        let mut architectures = self.architectures.unwrap_or_default();
        let arch_map = self.arch_map.unwrap_or_default();
        if !architectures.is_empty() && !arch_map.is_empty() {
            return Err(ProfileErrorKind::ArchitecturesAndArchMap);
        }
        for group in arch_map {
            architectures.push(group.architecture);
            architectures.extend(group.sub_architectures.unwrap_or_default());
        }

        let entries = self
            .syscalls
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(index, entry)| entry.check(index, default_errno))
            .collect::<Result<_, _>>()?;

        Ok(Profile {
            default_action,
            architectures,
            entries,
        })
    }
}

impl RawEntry {
    fn check(self, index: usize, default_errno: Option<u16>) -> Result<Entry, ProfileErrorKind> {
        let name = self.name.filter(|n| !n.is_empty());
        let names = self.names.unwrap_or_default();
        let place = Place::Entry {
            index,
            names: name.iter().chain(&names).cloned().collect(),
        };
        let names = match (name, names.is_empty()) {
            (Some(_), false) => return Err(ProfileErrorKind::NameAndNames { place }),
            (Some(name), true) => vec![name],
            (None, false) => names,
            (None, true) => return Err(ProfileErrorKind::NoNames { place }),
        };

        let errno = check_errno(self.errno_ret, &place)?.or(default_errno);
        let action =
            parse_action(&self.action, errno).ok_or_else(|| ProfileErrorKind::UnknownAction {
                place: place.clone(),
                action: self.action.clone(),
            })?;

        let args = self
            .args
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(arg, raw)| raw.check(&place, arg))
            .collect::<Result<_, _>>()?;

        Ok(Entry {
            action,
            args,
            includes: self.includes.unwrap_or_default().check(&place)?,
            excludes: self.excludes.unwrap_or_default().check(&place)?,
            comment: self.comment.filter(|c| !c.is_empty()),
            names,
        })
    }
}

impl RawArg {
    fn check(self, place: &Place, arg: usize) -> Result<ArgCheck, ProfileErrorKind> {
        let index = match u8::try_from(self.index) {
            Ok(index) if index <= 5 => index,
            _ => {
                return Err(ProfileErrorKind::ArgIndex {
                    place: place.clone(),
                    arg,
                    index: self.index,
                })
            }
        };
        let op = match self.op.as_str() {
            "SCMP_CMP_NE" => Op::Ne(self.value),
            "SCMP_CMP_LT" => Op::Lt(self.value),
            "SCMP_CMP_LE" => Op::Le(self.value),
            "SCMP_CMP_EQ" => Op::Eq(self.value),
            "SCMP_CMP_GE" => Op::Ge(self.value),
            "SCMP_CMP_GT" => Op::Gt(self.value),
            "SCMP_CMP_MASKED_EQ" => Op::MaskedEq {
                mask: self.value,
                value: self.value_two,
            },
            _ => {
                return Err(ProfileErrorKind::UnknownOp {
                    place: place.clone(),
                    arg,
                    op: self.op,
                })
            }
        };
        Ok(ArgCheck { index, op })
    }
}

impl RawCondition {
    fn check(self, place: &Place) -> Result<Condition, ProfileErrorKind> {
        let min_kernel =
            match self.min_kernel.filter(|v| !v.is_empty()) {
                None => None,
                Some(value) => Some(parse_kernel_version(&value).ok_or_else(|| {
                    ProfileErrorKind::MinKernel {
                        place: place.clone(),
                        value: value.clone(),
                    }
                })?),
            };
        Ok(Condition {
            caps: self.caps.unwrap_or_default(),
            arches: self.arches.unwrap_or_default(),
            min_kernel,
        })
    }
}

/// An `errnoRet` the kernel can return, or the error saying why not.
fn check_errno(errno: Option<u64>, place: &Place) -> Result<Option<u16>, ProfileErrorKind> {
    match errno {
        None => Ok(None),
        Some(value) => match u16::try_from(value) {
            Ok(errno) if errno <= MAX_ERRNO => Ok(Some(errno)),
            _ => Err(ProfileErrorKind::Errno {
                place: place.clone(),
                errno: value,
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_default_profile_parses() {
        let profile = Profile::from_json(DEFAULT_PROFILE).unwrap();
        assert_eq!(profile.default_action, Action::Errno(1));
        assert!(profile.entries.len() > 10);
        assert!(
            profile.entries.iter().all(|e| e.comment.is_some()),
            "every entry says why"
        );
    }

    #[test]
    fn the_legacy_name_form_and_null_fields_are_read() {
        let profile = Profile::from_json(
            r#"{"defaultAction": "SCMP_ACT_ALLOW",
                "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": null}],
                "syscalls": [{"name": "getcwd", "action": "SCMP_ACT_ERRNO", "args": null,
                              "somethingNew": true}]}"#,
        )
        .unwrap();
        assert_eq!(profile.architectures, ["SCMP_ARCH_X86_64"]);
        assert_eq!(profile.entries[0].names, ["getcwd"]);
        assert_eq!(profile.entries[0].action, Action::Errno(1));
    }

    #[test]
    fn errno_comes_from_the_entry_then_the_profile_then_eperm() {
        let profile = Profile::from_json(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 13,
                "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                             {"names": ["b"], "action": "SCMP_ACT_ERRNO"}]}"#,
        )
        .unwrap();
        assert_eq!(profile.default_action, Action::Errno(13));
        assert_eq!(profile.entries[0].action, Action::Errno(38));
        assert_eq!(profile.entries[1].action, Action::Errno(13));
    }

    #[test]
    fn masked_eq_reads_the_mask_from_value() {
        let profile = Profile::from_json(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["clone"],
                "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}]}]}"#,
        )
        .unwrap();
        let op = profile.entries[0].args[0].op;
        assert_eq!(
            op,
            Op::MaskedEq {
                mask: 0x7e02_0000,
                value: 0
            }
        );
        assert!(op.holds(0x0001_1111));
        assert!(!op.holds(0x1000_0000), "CLONE_NEWUSER");
    }
}
