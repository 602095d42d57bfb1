//! The last step of every container: replace the child with the command.

use std::ffi::CString;
use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::unistd::execve;

use crate::command::{find_in_path, PreparedCommand};
use crate::report::{self, NOT_EXECUTABLE, NOT_FOUND, SETUP_FAILED};
use crate::user::enter;

// ANCHOR: exec_command
/// Look the program up in the container's PATH and execve(2) it. Only
/// returns on failure, after writing a report for the parent; the caller
/// then exits with the report's code.
pub fn exec_command(command: &PreparedCommand, report_fd: impl AsFd) -> i32 {
    if let Err(message) = command.security.before_user() {
        return refuse(report_fd, &message);
    }
    let home = match enter(command.cwd.as_deref(), command.user.as_deref()) {
        Ok(home) => home,
        Err(message) => {
            report::send(report_fd, SETUP_FAILED, &message);
            return SETUP_FAILED;
        }
    };
    // A USER's HOME is its passwd entry's, unless the image set one.
    let mut env = command.env.clone();
    if let Some(home) = home.filter(|_| !command.home_given) {
        if let Ok(value) = CString::new(format!("HOME={home}")) {
            env.retain(|kv| !kv.as_bytes().starts_with(b"HOME="));
            env.push(value);
        }
    }
    let Some(path) = find_in_path(&command.program, &command.path_var) else {
        let message = format!(
            "command {:?} not found in the container (searched PATH={}): pass a command that exists in the image, e.g. /bin/sh",
            command.program, command.path_var
        );
        report::send(report_fd, NOT_FOUND, &message);
        return NOT_FOUND;
    };
    let Ok(c_path) = CString::new(path.as_os_str().as_encoded_bytes()) else {
        return NOT_FOUND;
    };
    // Chapter 9: capabilities, no_new_privs, seccomp, the last thing
    // before the command (see crate::security for the order).
    if let Err(message) = command.security.after_user() {
        return refuse(report_fd, &message);
    }
    // ANCHOR: exec_command_execve
    // On success this never returns: the process *becomes* the command, and
    // the O_CLOEXEC report pipe closes, which tells the parent all went well.
    let errno = match execve(&c_path, &command.argv, &env) {
        Err(errno) => errno,
        Ok(never) => match never {},
    };
    let (code, why) = match errno {
        Errno::ENOENT if path.exists() => (
            NOT_FOUND,
            "its interpreter (the #! line or the ELF loader) is missing in the image".to_string(),
        ),
        Errno::ENOENT => (NOT_FOUND, "no such file in the container".to_string()),
        Errno::EACCES => (
            NOT_EXECUTABLE,
            "permission denied (is it executable?)".to_string(),
        ),
        Errno::ENOEXEC => (
            NOT_EXECUTABLE,
            "not a program this kernel can run".to_string(),
        ),
        other => (NOT_EXECUTABLE, other.desc().to_string()),
    };
    let message = format!("cannot run {}: {why}", path.display());
    report::send(report_fd, code, &message);
    code
    // ANCHOR_END: exec_command_execve
}
// ANCHOR_END: exec_command

/// Report a hardening step that failed; the command must not run without it.
fn refuse(report_fd: impl AsFd, message: &str) -> i32 {
    let message = format!("cannot harden the container: {message}");
    report::send(report_fd, SETUP_FAILED, &message);
    SETUP_FAILED
}
