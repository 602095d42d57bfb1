//! Chapter 7: links, addresses and routes, asked of the kernel over
//! netlink, the way `ip link`, `ip addr` and `ip route` ask.
//!
//! A netlink socket carries messages, not calls: each request is a
//! header (its type, such as RTM_NEWLINK, and flags: a request, create,
//! fail if it exists, acknowledge) followed by a fixed part (for a link:
//! family, index, flags) and attributes, each a type, a length and a
//! value. The kernel answers with messages of the same shape, and ends
//! with an acknowledgement, which carries an errno when the request
//! failed. The `netlink-packet-route` crate knows every message's layout;
//! what to send is written here.
//!
//! A socket belongs to the network namespace it was made in: to speak to
//! a container's, [`Netlink::open_in`] makes one from a thread that has
//! joined that namespace first.

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};
use thiserror::Error;

/// A request the kernel refused, or a socket that failed.
#[derive(Debug, Error)]
#[error("cannot {what}: {errno}")]
pub struct NetlinkError {
    /// What was asked, e.g. "create bridge cratebox0".
    pub what: String,
    /// Why not.
    pub errno: Errno,
}

/// A netlink route socket, in one network namespace.
#[derive(Debug)]
pub struct Netlink {
    socket: Socket,
    sequence: u32,
}

/// Where a request's answer ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One change: ends with the acknowledgement.
    Change { exclusive: bool },
    /// A list: ends with NLMSG_DONE.
    Dump,
    /// One object: its message, then the acknowledgement.
    Get,
}

impl Netlink {
    /// A socket in our own network namespace.
    pub fn open() -> Result<Netlink, NetlinkError> {
        let fail = |e: std::io::Error| NetlinkError {
            what: "open a netlink socket".into(),
            errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        };
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(fail)?;
        socket.bind_auto().map_err(fail)?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(fail)?;
        Ok(Netlink {
            socket,
            sequence: 0,
        })
    }

    // ANCHOR: open_in
    /// A socket in the network namespace `netns` (an open
    /// `/proc/PID/ns/net`): made by a thread that joins it first, so that
    /// this process stays where it is.
    pub fn open_in(netns: BorrowedFd<'_>) -> Result<Netlink, NetlinkError> {
        let netns: OwnedFd = netns.try_clone_to_owned().map_err(|e| NetlinkError {
            what: "use the network namespace".into(),
            errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        })?;
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    setns(netns.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|errno| {
                        NetlinkError {
                            what: "join the container's network namespace".into(),
                            errno,
                        }
                    })?;
                    Netlink::open()
                })
                .join()
                .unwrap_or_else(|_| {
                    Err(NetlinkError {
                        what: "open a netlink socket".into(),
                        errno: Errno::EIO,
                    })
                })
        })
    }
    // ANCHOR_END: open_in

    // ANCHOR: request
    /// Send `message` and read the answer: the messages it holds, or the
    /// errno the kernel refused it with.
    fn request(
        &mut self,
        what: &str,
        message: RouteNetlinkMessage,
        kind: Kind,
    ) -> Result<Vec<RouteNetlinkMessage>, NetlinkError> {
        let fail = |errno: Errno| NetlinkError {
            what: what.to_string(),
            errno,
        };
        let io = |e: std::io::Error| fail(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)));
        // ANCHOR: request_send
        self.sequence += 1;
        let mut header = NetlinkHeader::default();
        header.sequence_number = self.sequence;
        header.flags = NLM_F_REQUEST
            | match kind {
                Kind::Change { exclusive: true } => NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                Kind::Change { exclusive: false } => NLM_F_ACK,
                Kind::Dump => NLM_F_DUMP,
                Kind::Get => NLM_F_ACK,
            };
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        self.socket.send(&bytes, 0).map_err(io)?;
        let mut answers = Vec::new();
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let size = self.socket.recv(&mut &mut buffer[..], 0).map_err(io)?;
            let mut offset = 0;
            while offset < size {
                let reply =
                    NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buffer[offset..size])
                        .map_err(|_| fail(Errno::EBADMSG))?;
                let length = reply.header.length as usize;
                if reply.header.sequence_number == self.sequence {
                    match reply.payload {
                        NetlinkPayload::Error(error) => match error.code {
                            Some(code) => return Err(fail(Errno::from_raw(-code.get()))),
                            None => return Ok(answers),
                        },
                        NetlinkPayload::Done(_) => return Ok(answers),
                        NetlinkPayload::InnerMessage(inner) => answers.push(inner),
                        _ => {}
                    }
                }
                // ANCHOR_END: request_send
                if length == 0 {
                    break;
                }
                offset += length;
            }
        }
    }
    // ANCHOR_END: request

    /// The index of the link called `name`, if there is one.
    pub fn index_of(&mut self, name: &str) -> Result<Option<u32>, NetlinkError> {
        let mut message = LinkMessage::default();
        message.attributes.push(LinkAttribute::IfName(name.into()));
        let what = format!("look up link {name}");
        match self.request(&what, RouteNetlinkMessage::GetLink(message), Kind::Get) {
            Ok(answers) => Ok(answers.into_iter().find_map(|a| match a {
                RouteNetlinkMessage::NewLink(link) => Some(link.header.index),
                _ => None,
            })),
            Err(NetlinkError {
                errno: Errno::ENODEV,
                ..
            }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Every link: index and name.
    pub fn links(&mut self) -> Result<Vec<(u32, String)>, NetlinkError> {
        let answers = self.request(
            "list links",
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            Kind::Dump,
        )?;
        Ok(answers
            .into_iter()
            .filter_map(|answer| match answer {
                RouteNetlinkMessage::NewLink(link) => {
                    let name = link.attributes.iter().find_map(|a| match a {
                        LinkAttribute::IfName(name) => Some(name.clone()),
                        _ => None,
                    })?;
                    Some((link.header.index, name))
                }
                _ => None,
            })
            .collect())
    }

    // ANCHOR: add_bridge
    /// `ip link add NAME type bridge`; its index.
    pub fn add_bridge(&mut self, name: &str) -> Result<u32, NetlinkError> {
        let mut message = LinkMessage::default();
        message.attributes.push(LinkAttribute::IfName(name.into()));
        message
            .attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Bridge,
            )]));
        let what = format!("create bridge {name}");
        self.request(
            &what,
            RouteNetlinkMessage::NewLink(message),
            Kind::Change { exclusive: true },
        )?;
        self.must_find(name)
    }
    // ANCHOR_END: add_bridge

    // ANCHOR: add_veth
    /// `ip link add HOST type veth peer name PEER netns NETNS`: a pair of
    /// linked interfaces, one end here, the other born in the namespace
    /// `netns` (so no name clash can happen there, and none here). The
    /// index of our end.
    pub fn add_veth(
        &mut self,
        host: &str,
        peer: &str,
        netns: BorrowedFd<'_>,
    ) -> Result<u32, NetlinkError> {
        let message = veth_message(host, peer, std::os::fd::AsRawFd::as_raw_fd(&netns));
        let what = format!("create veth pair {host}/{peer}");
        self.request(
            &what,
            RouteNetlinkMessage::NewLink(message),
            Kind::Change { exclusive: true },
        )?;
        self.must_find(host)
    }
    // ANCHOR_END: add_veth

    fn must_find(&mut self, name: &str) -> Result<u32, NetlinkError> {
        self.index_of(name)?.ok_or(NetlinkError {
            what: format!("find link {name} just made"),
            errno: Errno::ENODEV,
        })
    }

    /// `ip link set INDEX master BRIDGE up`: plug a link into a bridge
    /// (`None`: plug nothing) and bring it up.
    pub fn set_up(&mut self, index: u32, bridge: Option<u32>) -> Result<(), NetlinkError> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        message.header.flags = LinkFlags::Up;
        message.header.change_mask = LinkFlags::Up;
        if let Some(bridge) = bridge {
            message.attributes.push(LinkAttribute::Controller(bridge));
        }
        let what = format!("bring link {index} up");
        self.request(
            &what,
            RouteNetlinkMessage::SetLink(message),
            Kind::Change { exclusive: false },
        )
        .map(drop)
    }

    /// `ip addr add ADDRESS/PREFIX dev INDEX`.
    pub fn add_address(
        &mut self,
        index: u32,
        address: Ipv4Addr,
        prefix: u8,
    ) -> Result<(), NetlinkError> {
        let mut message = AddressMessage::default();
        message.header.family = AddressFamily::Inet;
        message.header.prefix_len = prefix;
        message.header.index = index;
        message
            .attributes
            .push(AddressAttribute::Local(IpAddr::V4(address)));
        message
            .attributes
            .push(AddressAttribute::Address(IpAddr::V4(address)));
        let what = format!("add address {address}/{prefix}");
        self.request(
            &what,
            RouteNetlinkMessage::NewAddress(message),
            Kind::Change { exclusive: true },
        )
        .map(drop)
    }

    /// `ip route add default via GATEWAY dev INDEX`.
    pub fn add_default_route(&mut self, index: u32, gateway: Ipv4Addr) -> Result<(), NetlinkError> {
        let mut message = RouteMessage::default();
        message.header.address_family = AddressFamily::Inet;
        message.header.table = RouteHeader::RT_TABLE_MAIN;
        message.header.protocol = RouteProtocol::Boot;
        message.header.scope = RouteScope::Universe;
        message.header.kind = RouteType::Unicast;
        message
            .attributes
            .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
        message.attributes.push(RouteAttribute::Oif(index));
        let what = format!("add a default route via {gateway}");
        self.request(
            &what,
            RouteNetlinkMessage::NewRoute(message),
            Kind::Change { exclusive: true },
        )
        .map(drop)
    }

    /// `ip link del INDEX` (a veth's peer goes with it).
    pub fn delete_link(&mut self, index: u32) -> Result<(), NetlinkError> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        let what = format!("delete link {index}");
        self.request(
            &what,
            RouteNetlinkMessage::DelLink(message),
            Kind::Change { exclusive: false },
        )
        .map(drop)
    }
}

// ANCHOR: veth_message
/// The RTM_NEWLINK message for a veth pair: our end's name, and the kind
/// `veth` whose data is the peer's own link message, with its name and
/// the namespace (an open file's number) it is to be born in.
pub fn veth_message(host: &str, peer: &str, netns_fd: i32) -> LinkMessage {
    let mut peer_message = LinkMessage::default();
    peer_message
        .attributes
        .push(LinkAttribute::IfName(peer.into()));
    peer_message
        .attributes
        .push(LinkAttribute::NetNsFd(netns_fd));
    let mut message = LinkMessage::default();
    message.attributes.push(LinkAttribute::IfName(host.into()));
    message.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_message))),
    ]));
    message
}
// ANCHOR_END: veth_message

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_veth_request_as_the_kernel_reads_it() {
        let message = veth_message("cb1a2b3c4d5e6f", "eth0", 7);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        header.sequence_number = 1;
        let mut packet = NetlinkMessage::new(
            header,
            NetlinkPayload::from(RouteNetlinkMessage::NewLink(message)),
        );
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        // The bytes, 16 a line, then what they say.
        let hex: Vec<String> = bytes
            .chunks(16)
            .map(|line| {
                line.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        insta::assert_snapshot!(format!("{}\n\n{packet:#?}", hex.join("\n")));
    }
}
