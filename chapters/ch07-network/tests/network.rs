//! Chapter 7 as a user meets it: ports published on the host, as root.
//! Every command runs in a network namespace the test makes, which plays
//! the host: its bridge, firewall table and settings are made there and
//! vanish with it; the real host's network is never touched, and all
//! traffic stays between the test's own namespaces.

// Helpers outside test functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use common::{get, links, ruleset, setup, tell_the_caller, Lab};

#[test]
fn a_host_port_and_a_host_directory_the_notes_promise() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let lab = Lab::new();
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("index.html"), "hello from the host\n").unwrap();
    let volume = format!("{}:/www", site.path().display());
    lab.ok(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "web",
            "-p",
            "8080:80",
            "-v",
            &volume,
            "-v",
            "/bin/busybox:/bin/busybox:ro",
            "demo",
            "/bin/busybox",
            "httpd",
            "-f",
            "-p",
            "80",
            "-h",
            "/www",
        ],
    );
    assert_eq!(lab.ok(&env, &["port", "web"]), "80/tcp -> 0.0.0.0:8080\n");
    let inspect: serde_json::Value =
        serde_json::from_str(&lab.ok(&env, &["inspect", "web"])).unwrap();
    let settings = &inspect[0]["NetworkSettings"];
    assert_eq!(
        settings["Ports"]["80/tcp"][0]["HostPort"], "8080",
        "{settings}"
    );
    assert_eq!(
        settings["Networks"]["bridge"]["Gateway"], "172.17.0.1",
        "{settings}"
    );
    // From the host, by 127.0.0.1 and by its own address; from another
    // machine.
    assert_eq!(get(&lab.host, "127.0.0.1:8080"), "hello from the host\n");
    assert_eq!(get(&lab.host, "10.250.0.1:8080"), "hello from the host\n");
    assert_eq!(get(&lab.client, "10.250.0.1:8080"), "hello from the host\n");
    // The file is the host's: change it there, the answer changes.
    std::fs::write(site.path().join("index.html"), "changed on the host\n").unwrap();
    assert_eq!(get(&lab.client, "10.250.0.1:8080"), "changed on the host\n");
    // A second container cannot have the same port.
    let taken = lab.run(
        &env,
        &["run", "-d", "-p", "8080:80", "demo", "sleep", "100"],
    );
    assert_eq!(taken.code, 125, "{taken:?}");
    assert_eq!(
        taken.stderr.trim(),
        "ch07-network: Bind for 0.0.0.0:8080 failed: port is already allocated"
    );
    lab.ok(&env, &["rm", "-f", "web"]);
    lab.ok(&env, &["container", "prune"]);
    // With the last container, the bridge and the table are gone.
    assert_eq!(links(&lab.host), ["lo", "lab0"]);
    assert_eq!(ruleset(&lab.host), "");
    env.finish();
}

/// Busybox from the host, for the programs the demo image leaves out
/// (httpd, nc): `-v` it in.
const BUSYBOX: &str = "/bin/busybox:/bin/busybox:ro";

/// An HTTP GET of `host`:`port` with busybox's nc, in container `from`:
/// the command line. (nc rather than busybox's wget, which a static
/// busybox cannot run on a name: its C library's name lookup crashes.)
fn fetch_in(from: &str, host: &str, port: u16) -> Vec<String> {
    let script =
        format!("printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 {host} {port}");
    ["exec", from, "sh", "-c", &script]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn user_networks_names_isolation_none_host_container_and_nat() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let lab = Lab::new();
    lab.ok(&env, &["network", "create", "front"]);
    lab.ok(
        &env,
        &["network", "create", "--subnet", "10.77.0.0/24", "back"],
    );
    let listing = lab.ok(&env, &["network", "ls"]);
    assert!(
        listing.contains("front") && listing.contains("10.77.0.0/24"),
        "{listing}"
    );
    let serve =
        "mkdir /www && echo hi from a > /www/index.html && exec busybox httpd -f -p 80 -h /www";
    for (name, network, command) in [
        ("a", "front", serve),
        ("b", "front", "exec sleep 1000"),
        ("c", "back", "exec sleep 1000"),
    ] {
        lab.ok(
            &env,
            &[
                "run",
                "-d",
                "--name",
                name,
                "--network",
                network,
                "-v",
                BUSYBOX,
                "demo",
                "sh",
                "-c",
                command,
            ],
        );
    }
    // On one user network, by name: /etc/hosts lists every container.
    let hosts = lab.ok(&env, &["exec", "b", "cat", "/etc/hosts"]);
    assert!(hosts.contains("\ta "), "{hosts}");
    let fetch = fetch_in("b", "a", 80);
    let fetch: Vec<&str> = fetch.iter().map(String::as_str).collect();
    let mut seen = lab.run(&env, &fetch);
    for _ in 0..50 {
        if seen.stdout.contains("hi from a") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        seen = lab.run(&env, &fetch);
    }
    assert!(seen.stdout.ends_with("\r\n\r\nhi from a\n"), "{seen:?}");
    // From another network, not even by address.
    let inspect = lab.ok(&env, &["network", "inspect", "front"]);
    let json: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    let a_address = json[0]["Containers"]
        .as_object()
        .unwrap()
        .values()
        .find(|c| c["Name"] == "a")
        .unwrap()["IPv4Address"]
        .as_str()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let across = fetch_in("c", &a_address, 80);
    let across: Vec<&str> = across.iter().map(String::as_str).collect();
    let refused = lab.run(&env, &across);
    assert!(!refused.stdout.contains("hi from a"), "{refused:?}");
    // Outbound NAT: a machine outside sees the host's address.
    let listening = tell_the_caller(&lab.client, 9000);
    let ask = fetch_in("b", "10.250.0.2", 9000);
    let ask: Vec<&str> = ask.iter().map(String::as_str).collect();
    let from = lab.ok(&env, &ask);
    listening.join().unwrap();
    assert!(from.ends_with("\r\n\r\n10.250.0.1"), "{from}");
    // none: only lo. host: the host's links. container:a: a's address.
    let none = lab.ok(
        &env,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "demo",
            "ip",
            "-o",
            "link",
        ],
    );
    assert_eq!(none.lines().count(), 1, "{none}");
    let host = lab.ok(
        &env,
        &[
            "run",
            "--rm",
            "--network",
            "host",
            "demo",
            "ip",
            "-o",
            "link",
        ],
    );
    assert!(host.contains("lab0"), "{host}");
    let shared = lab.ok(
        &env,
        &[
            "run",
            "--rm",
            "--network",
            "container:a",
            "demo",
            "ip",
            "-o",
            "addr",
        ],
    );
    assert!(shared.contains(&format!("inet {a_address}/")), "{shared}");
    // network connect: c on front too, as eth1, and it finds a by name;
    // disconnected, it does not any more.
    lab.ok(&env, &["network", "connect", "front", "c"]);
    let links_in_c = lab.ok(&env, &["exec", "c", "ip", "-o", "link"]);
    assert!(links_in_c.contains("eth1"), "{links_in_c}");
    let joined = lab.run(
        &env,
        &fetch_in("c", "a", 80)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(joined.stdout.ends_with("hi from a\n"), "{joined:?}");
    assert!(lab
        .ok(&env, &["exec", "b", "cat", "/etc/hosts"])
        .contains("\tc "));
    lab.ok(&env, &["network", "disconnect", "front", "c"]);
    let left = lab.run(
        &env,
        &fetch_in("c", "a", 80)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(!left.stdout.contains("hi from a"), "{left:?}");
    assert!(!lab
        .ok(&env, &["exec", "c", "ip", "-o", "link"])
        .contains("eth1"));
    // In use, a network stays; emptied, it goes, and so do the bridges.
    let busy = lab.run(&env, &["network", "rm", "front"]);
    assert_eq!(busy.code, 1, "{busy:?}");
    lab.ok(&env, &["rm", "-f", "a", "b", "c"]);
    lab.ok(&env, &["network", "rm", "front", "back"]);
    assert_eq!(links(&lab.host), ["lo", "lab0"]);
    assert_eq!(ruleset(&lab.host), "");
    env.finish();
}

/// The IPv4 TCP and UDP connections the kernel tracks in `netns` (IPv6's
/// neighbour discovery and the bridge's IGMP reports, which a new link
/// makes by itself, are not ours to count).
fn tracked_ipv4(netns: &std::fs::File) -> Vec<String> {
    common::inside(netns, || {
        // thread-self: /proc/net is the process's (its first thread's)
        // namespace, the host's, not this thread's.
        let table =
            std::fs::read_to_string("/proc/thread-self/net/nf_conntrack").unwrap_or_default();
        table
            .lines()
            .filter(|l| {
                let fields: Vec<&str> = l.split_whitespace().collect();
                fields.first() == Some(&"ipv4")
                    && matches!(fields.get(2), Some(&"tcp") | Some(&"udp"))
            })
            .map(str::to_string)
            .collect()
    })
}

#[test]
fn a_hundred_runs_with_published_ports_leave_nothing() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let lab = Lab::new();
    let before = tracked_ipv4(&lab.host);
    for round in 0..100 {
        let port = format!("{}:80", 20000 + round);
        lab.ok(
            &env,
            &[
                "run", "-d", "--name", "cycle", "-p", &port, "-P", "demo", "sleep", "100",
            ],
        );
        lab.ok(&env, &["rm", "-f", "cycle"]);
    }
    assert_eq!(links(&lab.host), ["lo", "lab0"]);
    assert_eq!(ruleset(&lab.host), "");
    // No connection was tracked for them: the conntrack table is as it was.
    assert_eq!(tracked_ipv4(&lab.host), before);
    let leases =
        std::fs::read_to_string(env.state_root().join("networks/bridge/leases.json")).unwrap();
    assert_eq!(leases.trim(), "{}");
    // A supervisor killed, then rm: nothing left either.
    let id = lab.ok(
        &env,
        &[
            "run", "-d", "--name", "orphan", "-p", "8080:80", "demo", "sleep", "100",
        ],
    );
    let record = std::fs::read_to_string(
        env.state_root()
            .join("containers")
            .join(id.trim())
            .join("container.json"),
    )
    .unwrap();
    let record: serde_json::Value = serde_json::from_str(&record).unwrap();
    let supervisor = record["state"]["supervisor"]["pid"].as_i64().unwrap();
    // SAFETY: kill(2) with a pid and a signal number touches no memory.
    assert_eq!(unsafe { libc::kill(supervisor as i32, libc::SIGKILL) }, 0);
    lab.ok(&env, &["rm", "-f", "orphan"]);
    assert_eq!(links(&lab.host), ["lo", "lab0"]);
    assert_eq!(ruleset(&lab.host), "");
    env.finish();
}

#[test]
fn publish_all_publishes_what_the_notes_server_image_exposes() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let lab = Lab::new();
    let seed =
        common::workspace_root().join("chapters/ch05-dockerfile/tests/fixtures/notes-server");
    lab.ok(
        &env,
        &["build", "-q", "-t", "notes-server", seed.to_str().unwrap()],
    );
    lab.ok(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "notes-server",
            "-P",
            "notes-server",
            "sleep",
            "1000",
        ],
    );
    let ports = lab.ok(&env, &["port", "notes-server"]);
    let lines: Vec<&str> = ports.lines().collect();
    assert_eq!(lines.len(), 2, "{ports}");
    assert!(
        lines.iter().any(|l| l.starts_with("7000/tcp -> 0.0.0.0:")),
        "{ports}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("8080/tcp -> 0.0.0.0:")),
        "{ports}"
    );
    // Each on a port of its own, picked by the host, and in the table.
    let rules = ruleset(&lab.host);
    for line in &lines {
        let host_port = line.rsplit(':').next().unwrap();
        assert!(
            rules.contains(&format!("tcp dport {host_port} dnat to")),
            "{rules}"
        );
    }
    lab.ok(&env, &["rm", "-f", "notes-server"]);
    lab.ok(&env, &["rmi", "notes-server"]);
    assert_eq!(ruleset(&lab.host), "");
    env.finish();
}

#[test]
fn the_apt_story_over_the_network() {
    let Some((image, repo)) = cratebox_testkit::debian_fixtures() else {
        return;
    };
    let Some((_turn, env)) = setup() else {
        return;
    };
    let lab = Lab::new();
    // The host serves its apt repository over HTTP, on its own side of
    // the lab (the container reaches it through the bridge).
    let mut server = lab.spawn_on_host(&[
        "/bin/busybox",
        "httpd",
        "-f",
        "-p",
        "8000",
        "-h",
        repo.to_str().unwrap(),
    ]);
    lab.ok(
        &env,
        &["import", image.to_str().unwrap(), "debian:bookworm"],
    );
    lab.ok(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "deb",
            "debian:bookworm",
            "sleep",
            "infinity",
        ],
    );
    let inspect = lab.ok(&env, &["network", "inspect", "bridge"]);
    let json: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    let gateway = json[0]["IPAM"]["Config"][0]["Gateway"]
        .as_str()
        .unwrap()
        .to_string();
    let script = format!(
        "echo 'deb [trusted=yes] http://{gateway}:8000/ ./' > /etc/apt/sources.list && apt-get update && apt-get install -y hello"
    );
    let install = lab.run(&env, &["exec", "deb", "sh", "-c", &script]);
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(install.code, 0, "{install:?}");
    assert!(
        install.stdout.contains(&format!("http://{gateway}:8000")),
        "{install:?}"
    );
    assert_eq!(lab.ok(&env, &["exec", "deb", "hello"]), "Hello, world!\n");
    lab.ok(&env, &["rm", "-f", "deb"]);
    assert_eq!(ruleset(&lab.host), "");
    env.finish();
}

#[test]
fn twenty_runs_at_once_get_twenty_addresses() {
    let Some((_turn, env)) = setup() else {
        return;
    };
    let lab = Lab::new();
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..20)
            .map(|i| {
                let (lab, env) = (&lab, &env);
                scope.spawn(move || {
                    let name = format!("n{i}");
                    lab.ok(env, &["run", "-d", "--name", &name, "demo", "sleep", "100"]);
                })
            })
            .collect();
        for run in runs {
            run.join().unwrap();
        }
    });
    let inspect = lab.ok(&env, &["network", "inspect", "bridge"]);
    let json: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    let addresses: std::collections::BTreeSet<String> = json[0]["Containers"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["IPv4Address"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(addresses.len(), 20, "{addresses:?}");
    let names: Vec<String> = (0..20).map(|i| format!("n{i}")).collect();
    let mut rm = vec!["rm", "-f"];
    rm.extend(names.iter().map(String::as_str));
    lab.ok(&env, &rm);
    assert_eq!(links(&lab.host), ["lo", "lab0"]);
    assert_eq!(ruleset(&lab.host), "");
    env.finish();
}
