//! `process.terminal`: a pseudo-terminal made inside the container, its
//! master handed to the engine over `--console-socket` (as ancillary data,
//! `SCM_RIGHTS`), its slave the process's stdin, stdout, stderr and
//! controlling terminal.

use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;

use nix::mount::{mount, MsFlags};

/// Make a pseudo-terminal inside the container, hand its master to the
/// engine over the console socket, and make its slave our terminal.
pub fn terminal(
    console: RawFd,
    size: Option<&oci_spec::runtime::Box>,
    console_device: bool,
) -> Result<(), String> {
    use nix::fcntl::OFlag;
    use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};

    let fail = |what: &str, e: nix::errno::Errno| format!("process.terminal: {what}: {e}");
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(|e| fail("open /dev/ptmx", e))?;
    grantpt(&master).map_err(|e| fail("grantpt", e))?;
    unlockpt(&master).map_err(|e| fail("unlockpt", e))?;
    let name = ptsname_r(&master).map_err(|e| fail("ptsname", e))?;
    let slave = nix::fcntl::open(
        name.as_str(),
        OFlag::O_RDWR | OFlag::O_NOCTTY,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| fail("open the slave", e))?;
    if let Some(size) = size {
        let winsize = libc::winsize {
            ws_row: size.height() as u16,
            ws_col: size.width() as u16,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one winsize, ours.
        unsafe { libc::ioctl(slave, libc::TIOCSWINSZ, &winsize) };
    }
    let fds = [master.as_raw_fd()];
    let payload = [std::io::IoSlice::new(name.as_bytes())];
    sendmsg::<()>(
        console,
        &payload,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map_err(|e| fail("send the master to --console-socket", e))?;
    drop(master);
    nix::unistd::setsid().map_err(|e| fail("setsid", e))?;
    // SAFETY: TIOCSCTTY takes an integer argument.
    if unsafe { libc::ioctl(slave, libc::TIOCSCTTY, 0) } != 0 {
        return Err(format!(
            "process.terminal: TIOCSCTTY: {}",
            std::io::Error::last_os_error()
        ));
    }
    for fd in 0..3 {
        nix::unistd::dup2(slave, fd).map_err(|e| fail("dup2", e))?;
    }
    if slave > 2 {
        let _ = nix::unistd::close(slave);
    }
    if !console_device {
        return Ok(());
    }
    // /dev/console is the terminal too, as in runc.
    let console_path = Path::new("/dev/console");
    if !console_path.exists() {
        let _ = File::create(console_path);
    }
    let _ = mount(
        Some(name.as_str()),
        console_path,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    );
    Ok(())
}
