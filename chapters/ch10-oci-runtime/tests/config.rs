//! config.json honoured: hooks, namespaces joined by path, cgroup
//! resources, the process's privileges and limits, user namespaces and a
//! terminal through the console socket. Each container runs for real.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;
use serde_json::json;

#[test]
fn hooks_run_in_order_each_with_the_state_at_its_time() {
    let Some((_turn, env)) = setup() else { return };
    let log = env.state_root().join("hooks.log");
    // `read` the state, keep its status: `kind "status":"created"`.
    let hook = |kind: &str, log: &str| {
        json!({"path": "/bin/sh", "args": ["sh", "-c",
            format!("read -r s; echo {kind} $(echo \"$s\" | grep -o '\"status\":\"[a-z]*\"') >> {log}")]})
    };
    let host_log = log.to_str().expect("a UTF-8 path").to_string();
    let bundle = bundle(&env, "hooks", &["true"], |c| {
        // startContainer runs after pivot_root: its log is bound in.
        c["mounts"].as_array_mut().expect("an array").push(json!({
            "destination": "/hooks", "type": "bind", "source": env.state_root(), "options": ["rbind"]}));
        c["hooks"] = json!({
            "prestart": [hook("prestart", &host_log)],
            "createRuntime": [hook("createRuntime", &host_log)],
            "createContainer": [hook("createContainer", &host_log)],
            "startContainer": [hook("startContainer", "/hooks/hooks.log")],
            "poststart": [hook("poststart", &host_log)],
            "poststop": [hook("poststop", &host_log)],
        });
    });
    let out = run_to_end(&env, &bundle, "hooks");
    assert_eq!(out.code, 0, "{out:?}");
    let text = std::fs::read_to_string(&log).expect("the hooks' log");
    assert_eq!(
        text,
        "prestart \"status\":\"creating\"\n\
         createRuntime \"status\":\"creating\"\n\
         createContainer \"status\":\"creating\"\n\
         startContainer \"status\":\"created\"\n\
         poststart \"status\":\"running\"\n\
         poststop \"status\":\"stopped\"\n"
    );
    env.finish();
}

#[test]
fn namespaces_given_by_path_are_joined() {
    let Some((_turn, env)) = setup() else { return };
    let first = bundle(&env, "first", &["sleep", "1000"], |c| {
        c["hostname"] = json!("first")
    });
    ok(
        &env,
        &[
            "create",
            "--bundle",
            first.to_str().expect("a UTF-8 path"),
            "first",
        ],
    );
    let pid = state(&env, "first")["pid"].as_i64().expect("a pid");
    let second = bundle(
        &env,
        "second",
        &[
            "sh",
            "-c",
            "readlink /proc/self/ns/net; readlink /proc/self/ns/uts; hostname",
        ],
        |c| {
            for ns in c["linux"]["namespaces"].as_array_mut().expect("an array") {
                match ns["type"].as_str() {
                    Some("network") => ns["path"] = json!(format!("/proc/{pid}/ns/net")),
                    Some("uts") => ns["path"] = json!(format!("/proc/{pid}/ns/uts")),
                    _ => {}
                }
            }
            c.as_object_mut().expect("an object").remove("hostname");
        },
    );
    let out = run_to_end(&env, &second, "second");
    let theirs =
        |kind: &str| std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).expect("a namespace");
    let expected = format!(
        "{}\n{}\nfirst\n",
        theirs("net").display(),
        theirs("uts").display()
    );
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, expected.as_str()),
        "{out:?}"
    );
    ok(&env, &["delete", "--force", "first"]);
    env.finish();
}

#[test]
fn resources_are_written_to_the_containers_cgroup() {
    let Some((_turn, env)) = setup() else { return };
    let bundle = bundle(&env, "limits", &["sleep", "1000"], |c| {
        c["linux"]["resources"] = json!({"pids": {"limit": 20}, "memory": {"limit": 67108864}});
    });
    ok(
        &env,
        &[
            "create",
            "--bundle",
            bundle.to_str().expect("a UTF-8 path"),
            "limits",
        ],
    );
    let pid = state(&env, "limits")["pid"].to_string();
    let (pids_max, memory_max) = match cratebox_testkit::expected_cgroup_version("pids") {
        Some("v2") => (
            "/sys/fs/cgroup/cratebox-test-limits/pids.max",
            "/sys/fs/cgroup/cratebox-test-limits/memory.max",
        ),
        _ => (
            "/sys/fs/cgroup/pids/cratebox-test-limits/pids.max",
            "/sys/fs/cgroup/memory/cratebox-test-limits/memory.limit_in_bytes",
        ),
    };
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(read(pids_max).trim(), "20");
    assert_eq!(read(memory_max).trim(), "67108864");
    let procs = read(&pids_max.replace("pids.max", "cgroup.procs"));
    assert!(procs.lines().any(|l| l == pid), "{pid} in {procs}");
    // Inside, the cgroup is the container's own, at the root of its view.
    let inside = runtime(&env, &["exec", "limits", "cat", "/proc/self/cgroup"]);
    assert!(
        inside.stdout.lines().all(|l| l.ends_with(":/")),
        "{inside:?}"
    );
    ok(&env, &["delete", "--force", "limits"]);
    assert!(
        !std::path::Path::new(pids_max).exists(),
        "the cgroup is gone"
    );
    env.finish();
}

#[test]
fn device_rules_are_enforced_on_either_cgroup_version() {
    let Some((_turn, env)) = setup() else { return };
    let mknod = "mknod /tmp/port c 1 4 && echo made || echo refused";
    let tmp = json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"});
    let deny_all = json!({"allow": false, "access": "rwm"});
    let may_mknod = json!({"allow": true, "type": "c", "access": "m"});
    for (id, rules, expected) in [
        ("denied", json!([deny_all]), "refused\n"),
        ("allowed", json!([deny_all, may_mknod]), "made\n"),
    ] {
        let bundle = bundle(&env, id, &["sh", "-c", mknod], |c| {
            c["mounts"]
                .as_array_mut()
                .expect("an array")
                .push(tmp.clone());
            c["linux"]["resources"] = json!({"devices": rules});
        });
        let out = run_to_end(&env, &bundle, id);
        assert_eq!(out.stdout, expected, "{id}: {out:?}");
    }
    env.finish();
}

#[test]
fn the_process_gets_exactly_its_privileges_and_limits() {
    let Some((_turn, env)) = setup() else { return };
    let script =
        "grep -E '^(CapEff|CapBnd|CapAmb|NoNewPrivs|Groups)' /proc/self/status; id -u; id -g; \
        mkdir /tmp/x 2>/dev/null && echo mkdir allowed || echo mkdir refused; \
        touch /file 2>/dev/null && echo root writable || echo root read-only; \
        ulimit -n; cat /proc/self/oom_score_adj; cat /proc/sys/kernel/msgmax; \
        wc -c < /proc/timer_list; hostname";
    let bundle = bundle(&env, "privileges", &["sh", "-c", script], |c| {
        let caps = json!(["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
        c["process"]["capabilities"] = json!({"bounding": caps, "effective": caps, "permitted": caps,
            "inheritable": ["CAP_NET_BIND_SERVICE"], "ambient": ["CAP_NET_BIND_SERVICE"]});
        c["process"]["user"] = json!({"uid": 1000, "gid": 1000, "additionalGids": [5, 7]});
        c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 77, "hard": 88}]);
        c["process"]["oomScoreAdj"] = json!(123);
        c["root"]["readonly"] = json!(true);
        c["hostname"] = json!("privileges");
        c["linux"]["sysctl"] = json!({"kernel.msgmax": "4321"});
        c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]});
        c["mounts"]
            .as_array_mut()
            .expect("an array")
            .push(json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}));
    });
    let out = run_to_end(&env, &bundle, "privileges");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "Groups:\t5 7 \nCapEff:\t0000000000000400\nCapBnd:\t0000000000000421\nCapAmb:\t0000000000000400\nNoNewPrivs:\t1\n\
         1000\n1000\nmkdir refused\nroot read-only\n77\n123\n4321\n0\nprivileges\n"
    );
    env.finish();
}

#[test]
fn a_user_namespace_maps_root_to_an_unprivileged_range() {
    let Some((_turn, env)) = setup() else { return };
    // The mapped root must reach the image through the temp dir.
    std::fs::set_permissions(env.state_root(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let bundle = bundle(
        &env,
        "userns",
        &[
            "sh",
            "-c",
            "cat /proc/self/uid_map /proc/self/gid_map; id -u; ls -l /dev/null",
        ],
        |c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .expect("an array")
                .push(json!({"type": "user"}));
            c["linux"]["uidMappings"] =
                json!([{"containerID": 0, "hostID": 200000, "size": 65536}]);
            c["linux"]["gidMappings"] =
                json!([{"containerID": 0, "hostID": 200000, "size": 65536}]);
        },
    );
    let out = run_to_end(&env, &bundle, "userns");
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    let fields = |line: &str| {
        line.split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(fields(lines[0]), ["0", "200000", "65536"]);
    assert_eq!(fields(lines[1]), ["0", "200000", "65536"]);
    assert_eq!(lines[2], "0");
    // The host's /dev/null, bound in: mknod is refused in a user namespace.
    assert!(lines[3].starts_with("crw-rw-rw-"), "{lines:?}");
    env.finish();
}

#[test]
fn a_terminal_is_sent_over_the_console_socket() {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::net::UnixListener;

    let Some((_turn, env)) = setup() else { return };
    let socket = env.state_root().join("console.sock");
    let listener = UnixListener::bind(&socket).expect("a console socket");
    let receiver = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("the runtime connects");
        let mut name = [0u8; 256];
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let mut iov = [std::io::IoSliceMut::new(&mut name)];
        let message = recvmsg::<()>(
            stream.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::empty(),
        )
        .expect("a message");
        let fd = message
            .cmsgs()
            .expect("control messages")
            .find_map(|m| match m {
                ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
                _ => None,
            })
            .expect("a descriptor");
        // SAFETY: the kernel just gave us this descriptor.
        unsafe { OwnedFd::from_raw_fd(fd) }
    });
    let bundle = bundle(&env, "tty", &["sh", "-c", "tty; echo hello"], |c| {
        c["process"]["terminal"] = json!(true)
    });
    ok(
        &env,
        &[
            "create",
            "--bundle",
            bundle.to_str().expect("a UTF-8 path"),
            "--console-socket",
            socket.to_str().expect("a UTF-8 path"),
            "tty",
        ],
    );
    let master = std::fs::File::from(receiver.join().expect("the receiver"));
    ok(&env, &["start", "tty"]);
    let mut output = String::new();
    let mut reader = std::io::BufReader::new(master);
    // Until the slave closes (EIO) or two lines came.
    for _ in 0..2 {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut reader, &mut line).unwrap_or(0) == 0 {
            break;
        }
        output.push_str(&line);
    }
    assert_eq!(output, "/dev/pts/0\r\nhello\r\n");
    wait_for(&env, "tty", "stopped");
    ok(&env, &["delete", "tty"]);
    env.finish();
}
