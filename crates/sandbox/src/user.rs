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

/// A user resolved for running a command: ids, the home directory
/// passwd gives (none for a bare number without an entry), and the groups
/// /etc/group lists the user in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub ids: Ids,
    pub home: Option<String>,
    pub groups: Vec<u32>,
}

// ANCHOR: resolve_user
/// Resolve `spec` (`user[:group]`, names or numbers) against the text of
/// an /etc/passwd and an /etc/group. A number needs no entry (its group is
/// then 0, as docker does); a name must have one. Without a group, the
/// user's primary group from passwd is used.
pub fn resolve_user(spec: &str, passwd: &str, group: &str) -> Result<Ids, String> {
    lookup_user(spec, passwd, group).map(|user| user.ids)
}
// ANCHOR_END: resolve_user

/// [`resolve_user`], with the home directory too.
pub fn lookup_user(spec: &str, passwd: &str, group: &str) -> Result<User, String> {
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
    let (uid, primary_gid): (u32, u32) = match (user.parse::<u32>(), &entry) {
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
    // passwd's sixth field is the home directory.
    let home = entry
        .as_ref()
        .and_then(|fields| fields.get(5).map(|h| h.to_string()));
    // group's fourth field lists the members, by name.
    let name = entry.as_ref().map(|fields| fields[0]).unwrap_or(user);
    let groups = group
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .filter(|fields| fields.len() >= 4)
        .filter(|fields| fields[3].split(',').any(|member| member == name))
        .filter_map(|fields| fields[2].parse().ok())
        .filter(|extra| *extra != gid)
        .collect();
    Ok(User {
        ids: Ids { uid, gid },
        home: home.filter(|h| !h.is_empty()),
        groups,
    })
}

fn bad_entry(file: &str, name: &str) -> String {
    format!("the image's /etc/{file} entry for {name} has a non-numeric id")
}

// ANCHOR: enter
/// Go to the working directory (making it first, as docker does) and
/// become the user, in that order: the directory is made as root. Runs in
/// the container, on the way to execve(2). Returns the user's home
/// directory, when passwd names one.
pub fn enter(cwd: Option<&str>, user: Option<&str>) -> Result<Option<String>, String> {
    if let Some(dir) = cwd {
        fs::create_dir_all(dir)
            .and_then(|()| chdir(dir).map_err(std::io::Error::from))
            .map_err(|e| format!("cannot use the working directory {dir}: {e}"))?;
    }
    if let Some(spec) = user {
        let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
        let group = fs::read_to_string("/etc/group").unwrap_or_default();
        let found = lookup_user(spec, &passwd, &group)?;
        let ids = found.ids;
        // Groups first: once the uid is not 0, changing them is refused.
        let mut groups = vec![Gid::from_raw(ids.gid)];
        groups.extend(found.groups.iter().map(|g| Gid::from_raw(*g)));
        setgroups(&groups)
            .and_then(|()| setgid(Gid::from_raw(ids.gid)))
            .and_then(|()| setuid(Uid::from_raw(ids.uid)))
            .map_err(|e| format!("cannot become user {spec}: {}", e.desc()))?;
        return Ok(found.home);
    }
    Ok(None)
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
        let www = lookup_user("www", PASSWD, GROUP).unwrap();
        assert_eq!(www.home.as_deref(), Some("/var/www"));
        // www is listed in staff: a supplementary group, as docker gives.
        assert_eq!(www.groups, [50]);
        assert_eq!(lookup_user("1000", PASSWD, GROUP).unwrap().home, None);
    }
}
