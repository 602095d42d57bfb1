//! The last steps of a container's process (and of an `exec`) before
//! `execve`, in the order that works: each step still has the power the
//! next one takes away.
//!
//! ```text
//! rlimits                 raising a hard limit needs CAP_SYS_RESOURCE
//!                         (set before `created`: see set_rlimits)
//! (seccomp, if no_new_privs is off: loading it then needs CAP_SYS_ADMIN)
//! bounding set            dropping from it needs CAP_SETPCAP
//! keep caps; groups, gid, uid
//! effective/permitted/inheritable, ambient
//! no_new_privs, then seccomp last: the filter sees only the program
//! ```

use std::ffi::CString;

use cratebox_sandbox::capabilities::{self, Capabilities};
use cratebox_seccomp::Filter;
use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
use oci_spec::runtime::{Capability, PosixRlimitType, Process};

/// A `process.capabilities` set as a mask.
fn set_of(caps: &Option<std::collections::HashSet<Capability>>) -> Option<Capabilities> {
    caps.as_ref().map(|caps| {
        caps.iter()
            .filter_map(|cap| capabilities::parse_name(&cap.to_string()).ok())
            .collect()
    })
}

/// An `RLIMIT_*` type as setrlimit takes it.
fn resource(kind: PosixRlimitType) -> libc::__rlimit_resource_t {
    use PosixRlimitType::*;
    (match kind {
        RlimitCpu => libc::RLIMIT_CPU,
        RlimitFsize => libc::RLIMIT_FSIZE,
        RlimitData => libc::RLIMIT_DATA,
        RlimitStack => libc::RLIMIT_STACK,
        RlimitCore => libc::RLIMIT_CORE,
        RlimitRss => libc::RLIMIT_RSS,
        RlimitNproc => libc::RLIMIT_NPROC,
        RlimitNofile => libc::RLIMIT_NOFILE,
        RlimitMemlock => libc::RLIMIT_MEMLOCK,
        RlimitAs => libc::RLIMIT_AS,
        RlimitLocks => libc::RLIMIT_LOCKS,
        RlimitSigpending => libc::RLIMIT_SIGPENDING,
        RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        RlimitNice => libc::RLIMIT_NICE,
        RlimitRtprio => libc::RLIMIT_RTPRIO,
        RlimitRttime => libc::RLIMIT_RTTIME,
    }) as libc::__rlimit_resource_t
}

fn prctl(option: libc::c_int, arg: libc::c_ulong, what: &str) -> Result<(), String> {
    // SAFETY: these prctl options take integers and touch no memory.
    if unsafe { libc::prctl(option, arg, 0, 0, 0) } != 0 {
        return Err(format!("{what}: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Apply `process.rlimits`. Raising a hard limit takes CAP_SYS_RESOURCE,
/// so this comes first; the container's process does it before it reports
/// `created`, so that a limit the host refuses fails `create`, where the
/// engine looks for errors.
pub fn set_rlimits(process: &Process) -> Result<(), String> {
    for limit in process.rlimits().as_deref().unwrap_or_default() {
        let value = libc::rlimit {
            rlim_cur: limit.soft(),
            rlim_max: limit.hard(),
        };
        // SAFETY: setrlimit reads one rlimit struct, ours.
        if unsafe { libc::setrlimit(resource(limit.typ()), &value) } != 0 {
            return Err(format!(
                "process.rlimits: {:?} soft {} hard {}: {}",
                limit.typ(),
                limit.soft(),
                limit.hard(),
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

// ANCHOR: become
/// Apply `process`'s identity and privileges to this process (its
/// rlimits are set already: [`set_rlimits`]).
pub fn become_process(process: &Process, seccomp: Option<&Filter>) -> Result<(), String> {
    let no_new_privileges = process.no_new_privileges().unwrap_or(false);
    let load = |filter: &Filter| {
        filter
            .load()
            .map_err(|e| format!("linux.seccomp: cannot load the filter: {e}"))
    };
    if let (Some(filter), false) = (seccomp, no_new_privileges) {
        load(filter)?;
    }
    let caps = process.capabilities().as_ref();
    if let Some(bounding) = caps.and_then(|c| set_of(c.bounding())) {
        capabilities::limit_bounding(bounding)
            .map_err(|e| format!("process.capabilities.bounding: {e}"))?;
    } else {
        prctl(libc::PR_SET_KEEPCAPS, 1, "prctl(PR_SET_KEEPCAPS)")?;
    }
    let user = process.user();
    if let Some(mask) = user.umask() {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
    }
    let groups: Vec<Gid> = user
        .additional_gids()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|g| Gid::from_raw(*g))
        .collect();
    // In a user namespace whose setgroups is denied, an empty list is
    // all there is to set, and the kernel refuses even that.
    if let Err(e) = setgroups(&groups) {
        if !groups.is_empty() {
            return Err(format!("process.user.additionalGids: setgroups: {e}"));
        }
    }
    let (uid, gid) = (Uid::from_raw(user.uid()), Gid::from_raw(user.gid()));
    setresgid(gid, gid, gid).map_err(|e| format!("process.user.gid {gid}: setresgid: {e}"))?;
    setresuid(uid, uid, uid).map_err(|e| format!("process.user.uid {uid}: setresuid: {e}"))?;
    prctl(libc::PR_SET_KEEPCAPS, 0, "prctl(PR_SET_KEEPCAPS)")?;
    if let Some(caps) = caps {
        let none = Capabilities::default;
        let permitted = set_of(caps.permitted()).unwrap_or_else(none);
        let effective = set_of(caps.effective()).unwrap_or_else(none);
        let inheritable = set_of(caps.inheritable()).unwrap_or_else(none);
        capabilities::set_exactly(effective, permitted, inheritable)
            .map_err(|e| format!("process.capabilities: {e}"))?;
        prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            "prctl(PR_CAP_AMBIENT_CLEAR_ALL)",
        )?;
        // The kernel raises an ambient capability only if it is permitted
        // and inheritable. buildah asks for ambient ones without the
        // inheritable set; runc skips those without a word. Skip them too,
        // but say so in the log.
        let ambient = set_of(caps.ambient()).unwrap_or_else(none);
        for cap in ambient.iter() {
            if !(permitted.contains(cap) && inheritable.contains(cap)) {
                crate::cli::log_only("warning", &format!(
                    "process.capabilities.ambient: {cap} is not both permitted and inheritable, so the kernel cannot raise it; skipped"
                ));
                continue;
            }
            // SAFETY: prctl(PR_CAP_AMBIENT) takes integers and touches no memory.
            if unsafe {
                libc::prctl(
                    libc::PR_CAP_AMBIENT,
                    libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                    cap.index() as libc::c_ulong,
                    0,
                    0,
                )
            } != 0
            {
                return Err(format!(
                    "process.capabilities.ambient: {cap}: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
    }
    if no_new_privileges {
        prctl(libc::PR_SET_NO_NEW_PRIVS, 1, "prctl(PR_SET_NO_NEW_PRIVS)")?;
        if let Some(filter) = seccomp {
            load(filter)?;
        }
    }
    Ok(())
}
// ANCHOR_END: become

/// `process.args` and `process.env` as execve takes them; the program
/// found on the `PATH` of `process.env`.
pub fn command_line(process: &Process) -> Result<(CString, Vec<CString>, Vec<CString>), String> {
    let args = process.args().as_deref().unwrap_or_default();
    let env = process.env().as_deref().unwrap_or_default();
    let path_var = env
        .iter()
        .find_map(|pair| pair.strip_prefix("PATH="))
        .unwrap_or(cratebox_sandbox::command::DEFAULT_PATH);
    let program = args.first().ok_or("process.args: empty")?;
    let found = cratebox_sandbox::command::find_in_path(program, path_var)
        .filter(|p| p.exists())
        .ok_or_else(|| format!("process.args[0]: {program:?} not found (PATH={path_var})"))?;
    let c = |s: &str| CString::new(s).map_err(|_| format!("process: {s:?} holds a NUL byte"));
    let path = c(&found.to_string_lossy())?;
    let argv = args.iter().map(|a| c(a)).collect::<Result<_, _>>()?;
    let envp = env.iter().map(|e| c(e)).collect::<Result<_, _>>()?;
    Ok((path, argv, envp))
}

/// Compile `linux.seccomp` for this machine with chapter 9's compiler.
pub fn compile_seccomp(
    seccomp: &oci_spec::runtime::LinuxSeccomp,
    process: &Process,
) -> Result<Filter, String> {
    let json = serde_json::to_string(seccomp).map_err(|e| format!("linux.seccomp: {e}"))?;
    let profile =
        cratebox_seccomp::Profile::from_json(&json).map_err(|e| format!("linux.seccomp: {e}"))?;
    let caps: Vec<String> = process
        .capabilities()
        .as_ref()
        .and_then(|c| set_of(c.effective()))
        .unwrap_or_default()
        .names();
    let target = cratebox_seccomp::Target::host(caps);
    profile
        .compile(&target)
        .map_err(|e| format!("linux.seccomp: {e}"))
}
