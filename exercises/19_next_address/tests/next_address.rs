//! Exercise 19's tests: addresses handed out one by one, given back, and
//! a full network, each compared with cratebox's own IPAM.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

#[cfg(not(feature = "solution"))]
use ex19_next_address as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/19_next_address.rs"]
mod subject;

use subject::{next_free, Subnet};

fn subnet(text: &str) -> Subnet {
    text.parse().expect("a subnet")
}

#[test]
fn addresses_are_handed_out_lowest_first_until_none_is_left() {
    for text in ["10.1.0.0/29", "172.18.0.0/16", "192.168.7.0/30"] {
        let net = subnet(text);
        let mut used = BTreeSet::new();
        for _ in 0..8 {
            let mine = next_free(&net, &used);
            assert_eq!(mine, net.next_free(&used), "{text} with {used:?}");
            match mine {
                Some(address) => used.insert(address),
                None => break,
            };
        }
    }
    let net = subnet("10.1.0.0/29");
    let all: BTreeSet<Ipv4Addr> = (2..=6).map(|i| Ipv4Addr::new(10, 1, 0, i)).collect();
    assert_eq!(next_free(&net, &all), None, "a full network");
    let mut holes = all.clone();
    holes.remove(&Ipv4Addr::new(10, 1, 0, 4));
    assert_eq!(
        next_free(&net, &holes),
        Some(Ipv4Addr::new(10, 1, 0, 4)),
        "a freed address comes back"
    );
}
