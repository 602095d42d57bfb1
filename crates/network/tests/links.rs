//! Links, addresses and routes made over netlink, for real, as root, in
//! network namespaces this test makes and throws away: the host's own
//! network is never touched, and the only traffic goes between two of
//! the test's namespaces.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::AsFd;

use cratebox_network::links::Netlink;
use cratebox_testkit::netns::new_netns;
use cratebox_testkit::require_root;
use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};

#[test]
fn a_bridge_a_veth_into_a_namespace_an_address_a_route_and_traffic() {
    if !require_root() {
        return;
    }
    let host = new_netns();
    let container = new_netns();
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // This thread plays the host, in a namespace of its own.
                setns(host.as_fd(), CloneFlags::CLONE_NEWNET).unwrap();
                let mut outside = Netlink::open().unwrap();
                let bridge = outside.add_bridge("cbtest0").unwrap();
                outside
                    .add_address(bridge, Ipv4Addr::new(10, 200, 0, 1), 24)
                    .unwrap();
                outside.set_up(bridge, None).unwrap();
                let veth = outside
                    .add_veth("cbtest-v0", "eth0", container.as_fd())
                    .unwrap();
                outside.set_up(veth, Some(bridge)).unwrap();
                // A second bridge of the same name: the kernel's EEXIST.
                let again = outside.add_bridge("cbtest0").unwrap_err();
                assert_eq!(again.errno, Errno::EEXIST);
                assert_eq!(
                    again.to_string(),
                    "cannot create bridge cbtest0: EEXIST: File exists"
                );

                let mut inside = Netlink::open_in(container.as_fd()).unwrap();
                let names: Vec<String> = inside.links().unwrap().into_iter().map(|l| l.1).collect();
                assert_eq!(names, ["lo", "eth0"]);
                let eth0 = inside.index_of("eth0").unwrap().unwrap();
                let lo = inside.index_of("lo").unwrap().unwrap();
                assert_eq!(inside.index_of("eth1").unwrap(), None);
                inside
                    .add_address(eth0, Ipv4Addr::new(10, 200, 0, 2), 24)
                    .unwrap();
                inside.set_up(lo, None).unwrap();
                inside.set_up(eth0, None).unwrap();
                inside
                    .add_default_route(eth0, Ipv4Addr::new(10, 200, 0, 1))
                    .unwrap();

                // A server in the container's namespace, a client here.
                let listener = std::thread::scope(|inner| {
                    inner
                        .spawn(|| {
                            setns(container.as_fd(), CloneFlags::CLONE_NEWNET).unwrap();
                            TcpListener::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 7000))
                                .unwrap()
                        })
                        .join()
                        .unwrap()
                });
                let server = std::thread::spawn(move || {
                    let (mut peer, from) = listener.accept().unwrap();
                    peer.write_all(from.ip().to_string().as_bytes()).unwrap();
                });
                let mut client = TcpStream::connect("10.200.0.2:7000").unwrap();
                let mut seen = String::new();
                client.read_to_string(&mut seen).unwrap();
                server.join().unwrap();
                // The container saw us at the bridge's address.
                assert_eq!(seen, "10.200.0.1");

                // Deleting our end takes the container's end with it.
                outside.delete_link(veth).unwrap();
                assert_eq!(inside.index_of("eth0").unwrap(), None);
                outside.delete_link(bridge).unwrap();
                assert_eq!(outside.index_of("cbtest0").unwrap(), None);
            })
            .join()
            .unwrap()
    });
}
