//! `info`: what this host supports and what cratebox holds, as `docker
//! info` shows it. Chapter 9 reads it to tell why a hardening step or a
//! rootless container can or cannot work here.

use std::fmt::Write;
use std::path::Path;

use cratebox_cgroups::detect::Hierarchies;
use cratebox_runtime::engine::Engine;

/// Facts about the host, read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// `uname -r`.
    pub kernel: String,
    /// /etc/os-release's PRETTY_NAME.
    pub os: String,
    /// The machine's architecture.
    pub arch: String,
    /// "2", or "1" with how v2 is also mounted.
    pub cgroup: String,
    /// The kernel filters system calls with seccomp BPF.
    pub seccomp: bool,
    /// /proc/sys/user/max_user_namespaces (0: none may be made).
    pub max_user_namespaces: Option<u64>,
    /// Whether a user who is not root may make one: Debian's
    /// `kernel.unprivileged_userns_clone`, Ubuntu's AppArmor restriction.
    pub unprivileged_userns: bool,
    /// Overlay mounts inside a user namespace (Linux 5.11 and later).
    pub overlay_in_userns: bool,
    /// newuidmap and newgidmap (package uidmap), for rootless containers.
    pub newuidmap: bool,
}

impl Host {
    /// Read the host.
    pub fn detect() -> Host {
        let read = |path: &str| std::fs::read_to_string(path).ok();
        let number = |path: &str| read(path).and_then(|text| text.trim().parse::<u64>().ok());
        let kernel = nix::sys::utsname::uname()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default();
        let os = read("/etc/os-release")
            .and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("PRETTY_NAME="))
                    .map(|name| name.trim_matches('"').to_string())
            })
            .unwrap_or_else(|| "Linux".into());
        let hierarchies = Hierarchies::detect();
        let cgroup = match (&hierarchies.v2, hierarchies.v1.is_empty()) {
            (Some(_), true) => "2".to_string(),
            (Some(v2), false) => format!(
                "1 (hybrid: controllers on v1, an empty v2 at {})",
                v2.path.display()
            ),
            (None, _) => "1".to_string(),
        };
        // SAFETY: PR_GET_SECCOMP takes no pointer; it fails with EINVAL on a
        // kernel built without seccomp.
        let seccomp = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) } >= 0;
        let unprivileged_userns = number("/proc/sys/kernel/unprivileged_userns_clone") != Some(0)
            && number("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") != Some(1);
        Host {
            overlay_in_userns: at_least(&kernel, (5, 11)),
            kernel,
            os,
            arch: std::env::consts::ARCH.to_string(),
            cgroup,
            seccomp,
            max_user_namespaces: number("/proc/sys/user/max_user_namespaces"),
            unprivileged_userns,
            newuidmap: ["/usr/bin/newuidmap", "/usr/bin/newgidmap"]
                .iter()
                .all(|path| Path::new(path).exists()),
        }
    }
}

/// Whether a kernel release such as `6.1.0-27-amd64` is at least `want`.
pub(crate) fn at_least(release: &str, want: (u32, u32)) -> bool {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= want
}

/// What the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Containers that run.
    pub running: usize,
    /// Containers that do not.
    pub stopped: usize,
    /// Images.
    pub images: usize,
}

// ANCHOR: report
/// The report, in `docker info`'s words where it has them.
pub fn report(host: &Host, counts: Counts, root: &Path) -> String {
    let yes = |b: bool| if b { "yes" } else { "no" };
    let mut out = String::new();
    let mut line = |text: String| {
        let _ = writeln!(out, "{text}");
    };
    line(format!("Containers: {}", counts.running + counts.stopped));
    line(format!(" Running: {}", counts.running));
    line(format!(" Stopped: {}", counts.stopped));
    line(format!("Images: {}", counts.images));
    line("Storage Driver: overlay".into());
    line(format!("Cgroup Version: {}", host.cgroup));
    line(format!("Kernel Version: {}", host.kernel));
    line(format!("Operating System: {}", host.os));
    line(format!("Architecture: {}", host.arch));
    line("Security Options:".into());
    match host.seccomp {
        true => line(" seccomp\n  Profile: builtin".into()),
        false => line(" seccomp: not in this kernel (containers run without a filter)".into()),
    }
    line(" no-new-privileges".into());
    line(" capabilities: docker's default 14".into());
    match host.max_user_namespaces {
        Some(max) if max > 0 => line(format!("User Namespaces: yes (at most {max})")),
        _ => line("User Namespaces: no (user.max_user_namespaces is 0)".into()),
    }
    line(format!(" Unprivileged: {}", yes(host.unprivileged_userns)));
    line(format!(
        " Overlay in a user namespace: {} (Linux 5.11 and later)",
        yes(host.overlay_in_userns)
    ));
    line(match host.newuidmap {
        true => " newuidmap/newgidmap: yes".into(),
        false => " newuidmap/newgidmap: no (apt install uidmap)".into(),
    });
    line(format!("Cratebox Root Dir: {}", root.display()));
    out
}
// ANCHOR_END: report

/// `info`.
pub fn info(engine: Option<&Engine>) -> anyhow::Result<i32> {
    let mut counts = Counts::default();
    if let Some(engine) = engine {
        for record in engine.containers.list()? {
            match record.is_running() {
                true => counts.running += 1,
                false => counts.stopped += 1,
            }
        }
        counts.images = engine.store.list()?.len();
    }
    let root = cratebox_demo_image::state_root();
    print!("{}", report(&Host::detect(), counts, &root));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_releases_compare_by_major_then_minor() {
        assert!(at_least("6.1.0-27-amd64", (5, 11)));
        assert!(at_least("5.11.0", (5, 11)));
        assert!(!at_least("5.10.209-1", (5, 11)));
        assert!(!at_least("4.19.0", (5, 11)));
        assert!(!at_least("", (5, 11)));
    }

    #[test]
    fn the_report_reads_like_docker_info() {
        let host = Host {
            kernel: "6.1.0-27-amd64".into(),
            os: "Debian GNU/Linux 12 (bookworm)".into(),
            arch: "x86_64".into(),
            cgroup: "2".into(),
            seccomp: true,
            max_user_namespaces: Some(63_000),
            unprivileged_userns: true,
            overlay_in_userns: true,
            newuidmap: false,
        };
        let counts = Counts {
            running: 1,
            stopped: 2,
            images: 3,
        };
        insta::assert_snapshot!(report(&host, counts, Path::new("/var/lib/cratebox")));
    }
}
