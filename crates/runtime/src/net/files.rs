//! The files a container on a network sees as `/etc/hosts` and
//! `/etc/resolv.conf`.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// A container's `/etc/hosts`: localhost, and its own name.
pub fn hosts_file(hostname: &str, address: Ipv4Addr) -> String {
    format!(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{address}\t{hostname}\n"
    )
}

// ANCHOR: resolv_conf
/// A container's `/etc/resolv.conf`, from the host's: a name server on
/// the host's loopback (systemd-resolved's 127.0.0.53, a local dnsmasq)
/// cannot be reached from the container's own loopback, so, as docker
/// does, it is replaced by the servers behind it (`upstream`, systemd's
/// /run/systemd/resolve/resolv.conf), or by public ones when there are
/// none.
pub fn resolv_conf(host: &str, upstream: Option<&str>) -> String {
    let loopback = |line: &str| {
        line.split_whitespace()
            .nth(1)
            .and_then(|a| a.parse::<Ipv4Addr>().ok())
            .is_some_and(|a| a.is_loopback())
    };
    let servers = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.trim_start().starts_with("nameserver") && !loopback(l.trim_start()))
            .map(|l| l.trim().to_string())
            .collect()
    };
    let mut lines: Vec<String> = host
        .lines()
        .filter(|l| !l.trim_start().starts_with("nameserver") && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let mut found = servers(host);
    let used_a_stub = host
        .lines()
        .any(|l| l.trim_start().starts_with("nameserver") && loopback(l.trim_start()));
    if used_a_stub {
        found.extend(upstream.map(servers).unwrap_or_default());
    }
    let unique: BTreeSet<String> = BTreeSet::new();
    let mut seen = unique;
    found.retain(|s| seen.insert(s.clone()));
    if found.is_empty() {
        found = vec!["nameserver 8.8.8.8".into(), "nameserver 8.8.4.4".into()];
    }
    lines.extend(found);
    lines.join("\n") + "\n"
}
// ANCHOR_END: resolv_conf

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_as_docker_writes_it() {
        let stub =
            "# managed by resolved\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n";
        let upstream = "nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch lan\n";
        let cases = [
            (
                "a stub with its upstream",
                resolv_conf(stub, Some(upstream)),
            ),
            ("a stub without", resolv_conf(stub, None)),
            ("plain servers", resolv_conf("nameserver 192.0.2.1\n", None)),
            (
                "a local dnsmasq beside a real one",
                resolv_conf("nameserver 127.0.0.1\nnameserver 192.0.2.1\n", None),
            ),
        ];
        let text: Vec<String> = cases
            .iter()
            .map(|(what, text)| format!("## {what}\n{text}"))
            .collect();
        insta::assert_snapshot!(text.join("\n"));
    }
}
