//! What chapter 7's tests share: a lab of network namespaces that plays
//! the host and another machine, and running the program inside it.

// Each test file uses some of these, not all.
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::process::CommandExt;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use cratebox_network::links::Netlink;
use cratebox_testkit::{one_at_a_time, require_root, Outcome, TestEnv};

pub const BIN: &str = env!("CARGO_BIN_EXE_ch07-network");

pub use cratebox_testkit::examples::workspace_root;
pub use cratebox_testkit::netns::{inside, new_netns};

/// The test's stand-in for the host, and a client machine wired to it.
pub struct Lab {
    pub host: File,
    pub client: File,
}

impl Lab {
    /// The host namespace with `lo` up and a link 10.250.0.1 — 10.250.0.2
    /// to the client's.
    pub fn new() -> Lab {
        let (host, client) = (new_netns(), new_netns());
        let far = client.try_clone().unwrap();
        inside(&host, move || {
            let mut netlink = Netlink::open().unwrap();
            let lo = netlink.index_of("lo").unwrap().unwrap();
            netlink.set_up(lo, None).unwrap();
            let up = netlink.add_veth("lab0", "lab0", far.as_fd()).unwrap();
            netlink
                .add_address(up, Ipv4Addr::new(10, 250, 0, 1), 24)
                .unwrap();
            netlink.set_up(up, None).unwrap();
            let mut other = Netlink::open_in(far.as_fd()).unwrap();
            let index = other.index_of("lab0").unwrap().unwrap();
            other
                .add_address(index, Ipv4Addr::new(10, 250, 0, 2), 24)
                .unwrap();
            other.set_up(index, None).unwrap();
        });
        Lab { host, client }
    }

    /// Run the program with `args` in the host namespace.
    pub fn run(&self, env: &TestEnv, args: &[&str]) -> Outcome {
        let mut command = env.command(BIN);
        command.args(args);
        Outcome::from(self.on_host(&mut command).output().unwrap())
    }

    /// Start `argv` as a program of the host (in the host namespace).
    pub fn spawn_on_host(&self, argv: &[&str]) -> std::process::Child {
        let mut command = std::process::Command::new(argv[0]);
        command.args(&argv[1..]);
        self.on_host(&mut command).spawn().unwrap()
    }

    /// Have `command` run in the host namespace.
    fn on_host<'c>(&self, command: &'c mut std::process::Command) -> &'c mut std::process::Command {
        let fd = self.host.as_raw_fd();
        // SAFETY: setns(2) is a system call, which is all pre_exec allows.
        unsafe {
            command.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNET) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            })
        }
    }

    pub fn ok(&self, env: &TestEnv, args: &[&str]) -> String {
        let out = self.run(env, args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        out.stdout
    }
}

/// An HTTP GET from `netns`; the body, once the server answers.
pub fn get(netns: &File, address: &'static str) -> String {
    inside(netns, move || {
        let address: SocketAddr = address.parse().unwrap();
        let start = Instant::now();
        loop {
            let answer =
                TcpStream::connect_timeout(&address, Duration::from_secs(2)).and_then(|mut s| {
                    s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n")?;
                    let mut text = String::new();
                    s.read_to_string(&mut text)?;
                    Ok(text)
                });
            match answer {
                Ok(text) if !text.is_empty() => {
                    return text.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
                }
                _ if start.elapsed() > Duration::from_secs(10) => {
                    panic!("no answer from {address}: {answer:?}")
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    })
}

pub fn setup() -> Option<(MutexGuard<'static, ()>, TestEnv)> {
    if !require_root() {
        return None;
    }
    let turn = one_at_a_time();
    Some((turn, TestEnv::new()))
}

/// A server in `netns` on `port` that answers one HTTP request with the
/// address the request came from.
pub fn tell_the_caller(netns: &File, port: u16) -> std::thread::JoinHandle<()> {
    let listener = inside(netns, move || {
        TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).unwrap()
    });
    std::thread::spawn(move || {
        let (mut peer, from) = listener.accept().unwrap();
        let mut request = [0u8; 1024];
        let _ = peer.read(&mut request).unwrap();
        let answer = format!("HTTP/1.0 200 OK\r\n\r\n{}", from.ip());
        peer.write_all(answer.as_bytes()).unwrap();
    })
}

/// The links of `netns`, by name, once the containers' veths are gone:
/// the kernel takes a namespace's down a moment after its last process
/// ends, so a veth may outlive its container by that long (5 s at most).
pub fn links(netns: &File) -> Vec<String> {
    let start = Instant::now();
    loop {
        let now = links_now(netns);
        if !now.iter().any(|l| l.starts_with("cb")) || start.elapsed() > Duration::from_secs(5) {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The links of `netns`, by name, as they are now.
pub fn links_now(netns: &File) -> Vec<String> {
    inside(netns, || {
        Netlink::open()
            .unwrap()
            .links()
            .unwrap()
            .into_iter()
            .map(|l| l.1)
            .collect()
    })
}

/// cratebox's firewall table in `netns` (empty when there is none).
pub fn ruleset(netns: &File) -> String {
    inside(netns, || {
        let out = std::process::Command::new("nft")
            .args(["list", "ruleset"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    })
}
