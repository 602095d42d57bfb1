//! Who the command runs as: an image's `USER`, and its working directory.
//!
//! `USER` in a Dockerfile (and `docker run -u`) takes `name`, `uid`,
//! `name:group` or `uid:gid`. Names mean what the *image's* `/etc/passwd`
//! and `/etc/group` say, not the host's, so they are looked up inside the
//! container, after pivot_root, just before the command starts.

use std::fs;

use nix::unistd::{chdir, setgid, setgroups, setuid, Gid, Uid};

/// A user resolved to numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
}

// ANCHOR: resolve_user
/// Resolve `spec` (`user[:group]`, names or numbers) against the text of
/// an /etc/passwd and an /etc/group. A number needs no entry (its group is
/// then 0, as docker does); a name must have one. Without a group, the
/// user's primary group from passwd is used.
pub fn resolve_user(spec: &str, passwd: &str, group: &str) -> Result<Ids, String> {
    let (user, group_spec) = match spec.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (spec, None),
    };
    // passwd lines: name:password:uid:gid:gecos:home:shell
    let entry = passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .filter(|fields| fields.len() >= 4)
        .find(|fields| fields[0] == user || fields[2] == user);
    let (uid, primary_gid) = match (user.parse::<u32>(), &entry) {
        (_, Some(fields)) => (
            fields[2].parse().map_err(|_| bad_entry("passwd", user))?,
            fields[3].parse().map_err(|_| bad_entry("passwd", user))?,
        ),
        (Ok(uid), None) => (uid, 0),
        (Err(_), None) => {
            return Err(format!(
                "unable to find user {user}: no matching entries in the image's /etc/passwd"
            ))
        }
    };
    let gid = match group_spec {
        None => primary_gid,
        Some(group_name) => {
            // group lines: name:password:gid:members
            let entry = group
                .lines()
                .map(|line| line.split(':').collect::<Vec<_>>())
                .filter(|fields| fields.len() >= 3)
                .find(|fields| fields[0] == group_name || fields[2] == group_name);
            match (group_name.parse::<u32>(), entry) {
                (_, Some(fields)) => fields[2]
                    .parse()
                    .map_err(|_| bad_entry("group", group_name))?,
                (Ok(gid), None) => gid,
                (Err(_), None) => {
                    return Err(format!(
                        "unable to find group {group_name}: no matching entries in the image's /etc/group"
                    ))
                }
            }
        }
    };
    Ok(Ids { uid, gid })
}
// ANCHOR_END: resolve_user

fn bad_entry(file: &str, name: &str) -> String {
    format!("the image's /etc/{file} entry for {name} has a non-numeric id")
}

// ANCHOR: enter
/// Go to the working directory (making it first, as docker does) and
/// become the user, in that order: the directory is made as root. Runs in
/// the container, on the way to execve(2).
pub fn enter(cwd: Option<&str>, user: Option<&str>) -> Result<(), String> {
    if let Some(dir) = cwd {
        fs::create_dir_all(dir)
            .and_then(|()| chdir(dir).map_err(std::io::Error::from))
            .map_err(|e| format!("cannot use the working directory {dir}: {e}"))?;
    }
    if let Some(spec) = user {
        let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
        let group = fs::read_to_string("/etc/group").unwrap_or_default();
        let ids = resolve_user(spec, &passwd, &group)?;
        // Groups first: once the uid is not 0, changing them is refused.
        setgroups(&[Gid::from_raw(ids.gid)])
            .and_then(|()| setgid(Gid::from_raw(ids.gid)))
            .and_then(|()| setuid(Uid::from_raw(ids.uid)))
            .map_err(|e| format!("cannot become user {spec}: {}", e.desc()))?;
    }
    Ok(())
}
// ANCHOR_END: enter

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/false\nbad:x:oops:1::/:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nstaff:x:50:www\nwww:x:33:\n";

    #[test]
    fn names_and_numbers() {
        let ids = |spec| resolve_user(spec, PASSWD, GROUP);
        assert_eq!(ids("root"), Ok(Ids { uid: 0, gid: 0 }));
        assert_eq!(ids("www"), Ok(Ids { uid: 33, gid: 33 }));
        assert_eq!(ids("33"), Ok(Ids { uid: 33, gid: 33 }));
        assert_eq!(ids("www:staff"), Ok(Ids { uid: 33, gid: 50 }));
        assert_eq!(ids("1000"), Ok(Ids { uid: 1000, gid: 0 }));
        assert_eq!(
            ids("1000:1000"),
            Ok(Ids {
                uid: 1000,
                gid: 1000
            })
        );
        insta::assert_snapshot!(ids("nobody").unwrap_err(), @"unable to find user nobody: no matching entries in the image's /etc/passwd");
        insta::assert_snapshot!(ids("www:wheel").unwrap_err(), @"unable to find group wheel: no matching entries in the image's /etc/group");
        insta::assert_snapshot!(ids("bad").unwrap_err(), @"the image's /etc/passwd entry for bad has a non-numeric id");
    }
}
