//! Chapter 7 as a user meets it: ports published on the host, as root.
//! Every command runs in a network namespace the test makes, which plays
//! the host: its bridge, firewall table and settings are made there and
//! vanish with it; the real host's network is never touched, and all
//! traffic stays between the test's own namespaces.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::process::CommandExt;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use cratebox_network::links::Netlink;
use cratebox_testkit::{one_at_a_time, require_root, Outcome, TestEnv};
use nix::sched::{setns, unshare, CloneFlags};

const BIN: &str = env!("CARGO_BIN_EXE_ch07-network");

/// A network namespace, held open.
fn new_netns() -> File {
    std::thread::spawn(|| {
        unshare(CloneFlags::CLONE_NEWNET).unwrap();
        File::open("/proc/thread-self/ns/net").unwrap()
    })
    .join()
    .unwrap()
}

/// Run `work` in a thread inside `netns`.
fn inside<T: Send + 'static>(netns: &File, work: impl FnOnce() -> T + Send + 'static) -> T {
    let netns = netns.try_clone().unwrap();
    std::thread::spawn(move || {
        setns(netns.as_fd(), CloneFlags::CLONE_NEWNET).unwrap();
        work()
    })
    .join()
    .unwrap()
}

/// The test's stand-in for the host, and a client machine wired to it.
struct Lab {
    host: File,
    client: File,
}

impl Lab {
    /// The host namespace with `lo` up and a link 10.250.0.1 — 10.250.0.2
    /// to the client's.
    fn new() -> Lab {
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
    fn run(&self, env: &TestEnv, args: &[&str]) -> Outcome {
        let fd = self.host.as_raw_fd();
        let mut command = env.command(BIN);
        command.args(args);
        // SAFETY: setns(2) is a system call, which is all pre_exec allows.
        unsafe {
            command.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNET) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            })
        };
        Outcome::from(command.output().unwrap())
    }

    fn ok(&self, env: &TestEnv, args: &[&str]) -> String {
        let out = self.run(env, args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        out.stdout
    }
}

/// An HTTP GET from `netns`; the body, once the server answers.
fn get(netns: &File, address: &'static str) -> String {
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

fn setup() -> Option<(MutexGuard<'static, ()>, TestEnv)> {
    if !require_root() {
        return None;
    }
    let turn = one_at_a_time();
    Some((turn, TestEnv::new()))
}

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
    inside(&lab.host, || {
        let links: Vec<String> = Netlink::open()
            .unwrap()
            .links()
            .unwrap()
            .into_iter()
            .map(|l| l.1)
            .collect();
        assert_eq!(links, ["lo", "lab0"]);
        let rules = std::process::Command::new("nft")
            .args(["list", "ruleset"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&rules.stdout).trim(), "");
    });
    env.finish();
}
