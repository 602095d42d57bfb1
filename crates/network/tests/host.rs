//! A network as cratebox makes one, end to end, as root, inside network
//! namespaces this test makes: one plays the host, two are containers,
//! one is an "upstream" host reached over a veth. Every packet stays
//! among them; the real host's links, rules and settings are never
//! touched. What it shows: outbound NAT, a published port from outside,
//! from the host by its address and by 127.0.0.1, and from another
//! container through the host (hairpin).

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::thread::JoinHandle;
use std::time::Duration;

use cratebox_network::host::{apply_rules, ensure_bridge, plug, remove_bridge, Endpoint};
use cratebox_network::links::Netlink;
use cratebox_network::ports::Protocol;
use cratebox_network::rules::{ruleset, NetworkRule, PortRule};
use cratebox_network::store::Network;
use cratebox_testkit::netns::{inside, new_netns};
use cratebox_testkit::require_root;

/// A server in `netns` on `port` that answers one connection with the
/// address it came from.
fn serve_once(netns: &File, port: u16) -> JoinHandle<()> {
    let listener = inside(netns, move || {
        TcpListener::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)).unwrap()
    });
    std::thread::spawn(move || {
        let (mut peer, from) = listener.accept().unwrap();
        peer.write_all(from.ip().to_string().as_bytes()).unwrap();
    })
}

/// Connect from `netns` to `address`; what the server said.
fn ask(netns: &File, address: &'static str) -> String {
    inside(netns, move || {
        let address = address.parse().unwrap();
        let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connect to {address}: {e}"));
        let mut said = String::new();
        stream.read_to_string(&mut said).unwrap();
        said
    })
}

/// Ask `address` from `client` while `server` listens on `port`.
fn round_trip(server: &File, port: u16, client: &File, address: &'static str) -> String {
    let listening = serve_once(server, port);
    let said = ask(client, address);
    listening.join().unwrap();
    said
}

#[test]
fn nat_published_ports_localhost_and_hairpin() {
    if !require_root() {
        return;
    }
    let host = new_netns();
    let (a, b, upstream) = (new_netns(), new_netns(), new_netns());
    let network = Network {
        name: "test".into(),
        id: "0".repeat(64),
        subnet: "10.201.0.0/24".parse().unwrap(),
        gateway: Ipv4Addr::new(10, 201, 0, 1),
        bridge: "cbtest1".into(),
        created: String::new(),
    };
    let (a2, b2, up2) = (
        a.try_clone().unwrap(),
        b.try_clone().unwrap(),
        upstream.try_clone().unwrap(),
    );
    let net = network.clone();
    inside(&host, move || {
        let mut netlink = Netlink::open().unwrap();
        // A new namespace's lo is down; a host's is up.
        let lo = netlink.index_of("lo").unwrap().unwrap();
        netlink.set_up(lo, None).unwrap();
        let bridge = ensure_bridge(&mut netlink, &net).unwrap();
        // Made once: a second call finds it.
        assert_eq!(ensure_bridge(&mut netlink, &net).unwrap(), bridge);
        for (netns, end, address) in [(&a2, "cbtest-a", 2), (&b2, "cbtest-b", 3)] {
            let end = Endpoint {
                host_end: end,
                inside: "eth0",
                address: Ipv4Addr::new(10, 201, 0, address),
                default_route: true,
            };
            plug(&mut netlink, &net, bridge, netns.as_fd(), &end).unwrap();
        }
        // The upstream host, on a link of its own.
        let up = netlink.add_veth("cbtest-up", "up0", up2.as_fd()).unwrap();
        netlink
            .add_address(up, Ipv4Addr::new(10, 250, 0, 1), 24)
            .unwrap();
        netlink.set_up(up, None).unwrap();
        let mut far = Netlink::open_in(up2.as_fd()).unwrap();
        let up0 = far.index_of("up0").unwrap().unwrap();
        far.add_address(up0, Ipv4Addr::new(10, 250, 0, 2), 24)
            .unwrap();
        far.set_up(up0, None).unwrap();
        for netns in [&a2, &b2, &up2] {
            let mut n = Netlink::open_in(netns.as_fd()).unwrap();
            let lo = n.index_of("lo").unwrap().unwrap();
            n.set_up(lo, None).unwrap();
        }
        let script = ruleset(
            &[NetworkRule {
                bridge: net.bridge.clone(),
                subnet: net.subnet,
            }],
            &[PortRule {
                protocol: Protocol::Tcp,
                host_ip: None,
                host_port: 8080,
                container: Ipv4Addr::new(10, 201, 0, 2),
                container_port: 80,
            }],
        );
        apply_rules(&script).unwrap();
        let forward = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
        assert_eq!(forward.trim(), "1");
    });

    // Outbound: the upstream host sees the host's address, not A's.
    assert_eq!(
        round_trip(&upstream, 9000, &a, "10.250.0.2:9000"),
        "10.250.0.1"
    );
    // A published port, from another host: DNAT in prerouting.
    assert_eq!(
        round_trip(&a, 80, &upstream, "10.250.0.1:8080"),
        "10.250.0.2"
    );
    // From the host itself, by one of its addresses: DNAT in output (the
    // source stays the address the host chose for the connection).
    assert_eq!(round_trip(&a, 80, &host, "10.250.0.1:8080"), "10.250.0.1");
    // From the host, by 127.0.0.1: route_localnet, then masquerade.
    assert_eq!(round_trip(&a, 80, &host, "127.0.0.1:8080"), "10.201.0.1");
    // From B through the host (hairpin): masqueraded, so that A answers
    // the host, which undoes the DNAT. (Unmasqueraded, A would answer B
    // straight over the bridge, which works only where the bridge's own
    // traffic passes netfilter, the br_netfilter module.)
    assert_eq!(round_trip(&a, 80, &b, "10.201.0.1:8080"), "10.201.0.1");

    inside(&host, move || {
        apply_rules(&ruleset(&[], &[])).unwrap();
        let mut netlink = Netlink::open().unwrap();
        remove_bridge(&mut netlink, &network).unwrap();
        let up = netlink.index_of("cbtest-up").unwrap().unwrap();
        netlink.delete_link(up).unwrap();
        let left: Vec<String> = netlink.links().unwrap().into_iter().map(|l| l.1).collect();
        // The containers' veths live while their namespaces do: here the
        // test still holds them open.
        assert!(!left.contains(&"cbtest1".to_string()), "{left:?}");
        let rules = std::process::Command::new("nft")
            .args(["list", "ruleset"])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&rules.stdout).trim().is_empty());
    });
}
