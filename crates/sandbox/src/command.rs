//! The command a container runs, and finding it inside the container.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use nix::unistd::{access, AccessFlags};

use crate::security::ProcessSecurity;

/// docker's default PATH for a container whose image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A program, its arguments and the environment it starts with.
///
/// The environment is *not* inherited from the host: a container starts
/// with a small, known set of variables, as `docker run` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerCommand {
    /// argv: the program first, then its arguments.
    pub argv: Vec<String>,
    /// `NAME=value` pairs, in order.
    pub env: Vec<(String, String)>,
    /// The directory to start in (created if missing, as docker does);
    /// `None` is `/`.
    pub cwd: Option<String>,
    /// Who to run as: `user`, `uid`, `user:group` or `uid:gid`, names
    /// looked up in the image's /etc/passwd and /etc/group; `None` is root.
    pub user: Option<String>,
    /// Whether HOME was given (by the image's Env); if not, a `user`'s
    /// home directory from passwd replaces the default `/root`.
    pub home_given: bool,
    /// Its stdin is a terminal (`-t`, chapter 6), to become its
    /// controlling terminal in a session of its own.
    pub tty: bool,
    /// Chapter 9: capabilities, no_new_privs and seccomp.
    pub security: ProcessSecurity,
}

impl ContainerCommand {
    /// `argv` with the default environment: PATH, HOME, and TERM when the
    /// host has one (so a shell on a terminal can draw its prompt).
    pub fn new(argv: Vec<String>) -> Self {
        let mut env = vec![
            ("PATH".to_string(), DEFAULT_PATH.to_string()),
            ("HOME".to_string(), "/root".to_string()),
        ];
        if let Ok(term) = std::env::var("TERM") {
            env.push(("TERM".to_string(), term));
        }
        ContainerCommand {
            argv,
            env,
            cwd: None,
            user: None,
            home_given: false,
            tty: false,
            security: ProcessSecurity::default(),
        }
    }

    /// Add or replace one variable.
    pub fn set_env(&mut self, name: &str, value: &str) {
        if name == "HOME" {
            self.home_given = true;
        }
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.to_string(), value.to_string()));
    }

    /// The value of PATH this command will search.
    pub fn path_var(&self) -> &str {
        self.env
            .iter()
            .find(|(n, _)| n == "PATH")
            .map(|(_, v)| v.as_str())
            .unwrap_or(DEFAULT_PATH)
    }

    /// Convert to the C strings execve(2) takes. Done before fork/clone, so
    /// the child has less to do; fails on a NUL byte inside an argument.
    pub fn prepare(&self) -> Result<PreparedCommand, std::ffi::NulError> {
        let argv = self
            .argv
            .iter()
            .map(|a| CString::new(a.as_bytes()))
            .collect::<Result<Vec<_>, _>>()?;
        let env = self
            .env
            .iter()
            .map(|(n, v)| CString::new(format!("{n}={v}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PreparedCommand {
            program: self.argv.first().cloned().unwrap_or_default(),
            path_var: self.path_var().to_string(),
            argv,
            env,
            cwd: self.cwd.clone().filter(|dir| !dir.is_empty()),
            user: self.user.clone().filter(|user| !user.is_empty()),
            home_given: self.home_given,
            tty: self.tty,
            security: self.security.clone(),
        })
    }
}

/// A command ready for execve(2).
#[derive(Debug, Clone)]
pub struct PreparedCommand {
    /// The program as the user wrote it (a name or a path).
    pub program: String,
    /// The PATH to search when `program` has no slash.
    pub path_var: String,
    /// argv as C strings.
    pub argv: Vec<CString>,
    /// envp as C strings.
    pub env: Vec<CString>,
    /// The working directory, see [`ContainerCommand::cwd`].
    pub cwd: Option<String>,
    /// The user, see [`ContainerCommand::user`].
    pub user: Option<String>,
    /// See [`ContainerCommand::home_given`].
    pub home_given: bool,
    /// See [`ContainerCommand::tty`].
    pub tty: bool,
    /// See [`ContainerCommand::security`].
    pub security: ProcessSecurity,
}

// ANCHOR: find_in_path
/// Where `program` is, looked up the way a shell does: as given when it
/// contains a slash, else in each PATH directory in turn, taking the first
/// executable file. Runs *inside* the container, so the paths are the
/// image's, not the host's.
pub fn find_in_path(program: &str, path_var: &str) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    path_var
        .split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(dir).join(program))
        .find(|candidate| candidate.is_file() && access(candidate, AccessFlags::X_OK).is_ok())
}
// ANCHOR_END: find_in_path

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_on_the_host_path() {
        assert_eq!(
            find_in_path("sh", "/nonexistent:/bin"),
            Some(PathBuf::from("/bin/sh"))
        );
        assert_eq!(find_in_path("/x/y", "/bin"), Some(PathBuf::from("/x/y")));
        assert_eq!(find_in_path("no-such-program-here", DEFAULT_PATH), None);
        assert_eq!(find_in_path("", DEFAULT_PATH), None);
    }

    #[test]
    fn environment_is_fresh_not_inherited() {
        let mut cmd = ContainerCommand::new(vec!["sh".into()]);
        cmd.set_env("PATH", "/bin");
        cmd.set_env("HOSTNAME", "box");
        assert_eq!(cmd.path_var(), "/bin");
        assert!(!cmd.env.iter().any(|(n, _)| n == "USER" || n == "PWD"));
        assert_eq!(cmd.env.iter().filter(|(n, _)| n == "PATH").count(), 1);
    }
}
