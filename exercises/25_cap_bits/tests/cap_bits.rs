//! Exercise 25's tests: names read as docker reads them, docker's default
//! set as the mask its containers show, masks and names both ways, and
//! `--cap-add`/`--cap-drop` by docker's rules.

#[cfg(not(feature = "solution"))]
use ex25_cap_bits as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/25_cap_bits.rs"]
mod subject;

use subject::{apply, mask, names, parse_capability, CapError, ALL, CAPABILITIES};

/// The 14 capabilities docker leaves a container's root (moby's
/// `oci/caps/defaults.go`), in its order.
const DOCKER_DEFAULT: [&str; 14] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// `/proc/PID/status` prints a set as 16 hex digits.
fn hex(mask: u64) -> String {
    format!("{mask:016x}")
}

fn default_mask() -> u64 {
    mask(&DOCKER_DEFAULT).expect("docker's defaults are capabilities")
}

#[test]
fn dockers_default_set_is_the_capbnd_its_containers_show() {
    // `docker run --rm alpine grep CapBnd /proc/self/status`
    assert_eq!(
        format!("CapBnd:\t{}", hex(default_mask())),
        "CapBnd:\t00000000a80425fb"
    );
    // The names come back in bit order, not docker's.
    insta::assert_snapshot!(names(0xa80425fb).join(" "));
}

#[test]
fn names_are_read_as_docker_reads_them() {
    let inputs = [
        "CAP_SYS_ADMIN",
        "SYS_ADMIN",
        "sys_admin",
        "cap_sys_admin",
        "Cap_Net_Bind_Service",
        "chown",
        "CAP_CHECKPOINT_RESTORE",
        "AUDIT_WRITE",
        "SETFCAP",
        // Not capabilities.
        "SYS_ADMN",
        "CAP_",
        "",
        "CAP_CAP_CHOWN",
        " CHOWN",
        "NET-ADMIN",
        "ALL",
        "all",
        "CAP_ALL",
    ];
    let lines: Vec<String> = inputs
        .iter()
        .map(|name| match parse_capability(name) {
            Ok(bit) => format!("{name:<24} bit {bit:>2}  {}", CAPABILITIES[bit as usize]),
            Err(error) => format!("{name:<24} ✗ {error}"),
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn each_bit_has_one_name_and_back() {
    for (bit, name) in CAPABILITIES.iter().enumerate() {
        assert_eq!(parse_capability(name), Ok(bit as u8), "{name}");
        assert_eq!(names(1 << bit), [*name], "bit {bit}");
        assert_eq!(mask(&[*name]), Ok(1 << bit), "{name}");
    }
}

#[test]
fn masks_and_names_round_trip() {
    let every = (1u64 << 41) - 1;
    for m in [
        0,
        1,
        default_mask(),
        0x0000_0000_0000_0400,
        every,
        every & !default_mask(),
    ] {
        let listed = names(m);
        assert_eq!(mask(&listed), Ok(m), "{} from {}", listed.join(" "), hex(m));
    }
    // A privileged container on Linux 5.9 or later: all 41, and no more.
    assert_eq!(names(u64::MAX).len(), 41);
    assert_eq!(mask(&names(u64::MAX)), Ok(every));
    assert_eq!(hex(every), "000001ffffffffff");
    assert_eq!(mask(&[]), Ok(0));
    assert_eq!(mask(&["KILL", "kill", "CAP_KILL"]), Ok(1 << 5));
}

#[test]
fn an_unknown_name_is_the_error_and_named() {
    assert_eq!(
        mask(&["CHOWN", "SYS_ADMN", "NOPE"]),
        Err(CapError::Unknown("SYS_ADMN".to_string()))
    );
    assert_eq!(mask(&["CHOWN", ALL]), Err(CapError::All));
    let message = CapError::Unknown("SYS_ADMN".to_string()).to_string();
    assert!(message.contains("\"SYS_ADMN\""), "{message}");
}

/// `--cap-add` and `--cap-drop` values, as docker's flags take them.
const CHANGES: &[(&[&str], &[&str])] = &[
    (&[], &[]),
    (&["SYS_ADMIN"], &[]),
    (&[], &["NET_RAW"]),
    (&["NET_ADMIN", "sys_time"], &["MKNOD", "cap_audit_write"]),
    // The least-privilege pattern: nothing but what is asked for.
    (&["NET_BIND_SERVICE"], &["ALL"]),
    (&[], &["ALL"]),
    (&["ALL"], &[]),
    (&["ALL"], &["MKNOD", "SYS_ADMIN"]),
    (&["all"], &["NET_ADMIN"]),
    // A name in both lists: kept, since the adds come after the drops...
    (&["CHOWN"], &["CHOWN"]),
    // ...except with ALL added, which leaves out every drop.
    (&["ALL", "NET_ADMIN"], &["NET_ADMIN"]),
    // ALL in both: the ALL added wins.
    (&["ALL"], &["ALL"]),
    (&["SYS_PTRACE"], &["ALL", "SYS_PTRACE"]),
];

#[test]
fn cap_add_and_cap_drop_by_dockers_rules() {
    let lines: Vec<String> = CHANGES
        .iter()
        .map(|(add, drop)| {
            let set = apply(default_mask(), add, drop).expect("good names");
            let shown = match names(set) {
                none if none.is_empty() => "none".to_string(),
                all if all.len() == CAPABILITIES.len() => "every capability".to_string(),
                some => some.join(" "),
            };
            format!(
                "--cap-add [{}] --cap-drop [{}]\n    {}  {shown}",
                add.join(","),
                drop.join(","),
                hex(set)
            )
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn bad_names_are_errors_whichever_rule_applies() {
    let lines: Vec<String> = [
        (&["SYS_ADMN"][..], &[][..]),
        (&[], &["NET_RAWW"]),
        (&["ALL"], &["MKNODE"]),
        (&["NET_BIND_SERVCE"], &["ALL"]),
        // Both wrong: docker reads the drops first.
        (&["FIRST"], &["SECOND"]),
        (&["CAP_ALL"], &[]),
    ]
    .iter()
    .map(|(add, drop)| {
        let outcome = match apply(default_mask(), add, drop) {
            Ok(set) => hex(set),
            Err(error) => format!("✗ {error}"),
        };
        format!(
            "--cap-add [{}] --cap-drop [{}]: {outcome}",
            add.join(","),
            drop.join(",")
        )
    })
    .collect();
    insta::assert_snapshot!(lines.join("\n"));
}
