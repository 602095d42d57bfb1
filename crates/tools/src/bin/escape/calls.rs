//! The attempts that are one system call: the kernel asks for a
//! capability (or a seccomp filter answers first), and nothing else
//! stands in the way.

use std::ffi::{c_int, c_long, c_uint, c_ulong, c_void};
use std::fs;
use std::io;

use crate::sys;
use crate::{allowed, c_path, check, errno_name, explain, past_the_check, refused, Outcome};

// ANCHOR: mount
/// Mount a tmpfs on a directory of our own under /tmp, then unmount it. In
/// the container's own mount namespace nobody else sees it; in a user
/// namespace the kernel allows it (tmpfs is one of the few file systems
/// whose mount a user namespace's root may make), which is harmless.
pub(crate) fn mount_tmpfs() -> Outcome {
    const TARGET: &str = "/tmp/escape-mount";
    let call = format!("mount tmpfs on {TARGET}");
    // A leftover of a killed run is fine to reuse.
    if let Err(error) = fs::create_dir(TARGET) {
        if error.kind() != io::ErrorKind::AlreadyExists {
            return refused(format!("mkdir {TARGET}: {}", explain(&error)));
        }
    }
    let target = c_path(TARGET);
    let (nosuid, nodev, noexec) = (2, 4, 8);
    // SAFETY: every pointer is a NUL-terminated string that outlives the
    // call; mount(2) only reads them.
    let result = unsafe {
        sys::mount(
            c"escape".as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            nosuid | nodev | noexec,
            c"size=4k".as_ptr().cast(),
        )
    };
    let outcome = match check(result.into()) {
        Err(error) => refused(format!("{call}: {}", explain(&error))),
        Ok(_) => {
            let mnt_detach = 2;
            // SAFETY: `target` is a NUL-terminated string that outlives the call.
            match check(unsafe { sys::umount2(target.as_ptr(), mnt_detach) }.into()) {
                Ok(_) => allowed(format!("{call}: mounted, and unmounted again")),
                Err(e) => allowed(format!("{call}: mounted; unmount: {}", explain(&e))),
            }
        }
    };
    let _ = fs::remove_dir(TARGET);
    outcome
}
// ANCHOR_END: mount

/// `init_module` with an empty image. The kernel checks `CAP_SYS_MODULE`
/// first and only then looks at the image, which is too short to be an ELF
/// file (`ENOEXEC`): nothing can ever be loaded.
pub(crate) fn load_module() -> Outcome {
    let image = [0u8; 1];
    // SAFETY: init_module(2) reads `len` (0) bytes of `image` and the
    // NUL-terminated parameter string; both outlive the call.
    let result = unsafe {
        sys::syscall(
            sys::SYS_INIT_MODULE,
            image.as_ptr(),
            0 as c_ulong,
            c"".as_ptr(),
        )
    };
    match check(result) {
        Ok(_) => allowed("init_module: loaded an empty module".to_string()),
        Err(error) => past_the_check("init_module", &error),
    }
}

/// Ask for the session keyring's id, which changes nothing. Keyrings are
/// not namespaced: a container that may use them shares the host's.
pub(crate) fn use_keyrings() -> Outcome {
    let (get_keyring_id, session_keyring, create) = (0, -3, 0);
    let call = "keyctl(GET_KEYRING_ID, session keyring)";
    // SAFETY: KEYCTL_GET_KEYRING_ID takes integers and touches no memory.
    let result = unsafe {
        sys::syscall(
            sys::SYS_KEYCTL,
            get_keyring_id as c_long,
            session_keyring as c_long,
            create as c_long,
        )
    };
    match check(result) {
        Ok(_) => allowed(format!("{call}: got its id")),
        Err(error) => past_the_check(call, &error),
    }
}

// ANCHOR: trace_init
/// `PTRACE_SEIZE` pid 1: attach as a tracer without stopping it. A
/// container's init usually holds more privilege than the command (more
/// capabilities), and the kernel lets only `CAP_SYS_PTRACE` trace such a
/// process.
///
/// The attempt runs in a child that exits right after: when a tracer exits
/// the kernel detaches it, and a seized tracee that was never stopped
/// notices nothing, so no `PTRACE_DETACH` is needed.
///
/// When `escape` itself is pid 1 (`docker run IMAGE escape`), the child's
/// target is its own parent, which any process of the same user may trace.
/// So for the attempt the parent makes itself non-dumpable, as the kernel
/// marks a process that changed its credentials: tracing it then takes
/// `CAP_SYS_PTRACE` too.
pub(crate) fn trace_init() -> Outcome {
    const PR_GET_DUMPABLE: c_int = 3;
    const PR_SET_DUMPABLE: c_int = 4;
    const PTRACE_SEIZE: c_int = 0x4206;
    let own_init = std::process::id() == 1;
    // SAFETY: PR_GET_DUMPABLE and PR_SET_DUMPABLE take and return
    // integers only.
    let was_dumpable = own_init.then(|| unsafe {
        let was = sys::prctl(PR_GET_DUMPABLE);
        sys::prctl(PR_SET_DUMPABLE, 0 as c_ulong);
        was
    });
    let result = in_child(|| {
        let null = std::ptr::null_mut::<c_void>();
        // SAFETY: PTRACE_SEIZE with null address and data touches no memory.
        unsafe { sys::ptrace(PTRACE_SEIZE, 1 as c_int, null, null) }
    });
    if let Some(was) = was_dumpable {
        // SAFETY: as above; this restores what exec(2) gave us.
        unsafe { sys::prctl(PR_SET_DUMPABLE, was as c_ulong) };
    }
    let call = "ptrace(PTRACE_SEIZE, 1)";
    match result {
        Ok(()) => allowed(format!("{call}: attached (and detached on exit)")),
        Err(error) => refused(format!("{call}: {}", explain(&error))),
    }
}
// ANCHOR_END: trace_init

/// In a child, so the new namespace goes when the child does.
pub(crate) fn make_user_namespace() -> Outcome {
    const CLONE_NEWUSER: c_int = 0x1000_0000;
    // SAFETY: unshare(2) takes an integer and changes only the child.
    let result = in_child(|| unsafe { sys::unshare(CLONE_NEWUSER) }.into());
    let call = "unshare(CLONE_NEWUSER)";
    match result {
        Ok(()) => allowed(format!("{call}: made one (in a child, gone with it)")),
        Err(error) => refused(format!("{call}: {}", explain(&error))),
    }
}

/// Run `call` in a forked child and return its result: `Ok` when it
/// returned anything but -1, else the errno it set, passed back as the
/// child's exit status (errno values are below 256).
///
/// This process has one thread, so the child may do anything; still, it
/// only makes the call, reads errno and leaves with `_exit`, which skips
/// the parent's exit handlers and buffers.
fn in_child(call: impl Fn() -> c_long) -> io::Result<()> {
    // SAFETY: fork(2) in a single-threaded process; the child runs only
    // `call` and _exit.
    let pid = check(unsafe { sys::fork() }.into())?;
    if pid == 0 {
        let code = match check(call()) {
            Ok(_) => 0,
            Err(error) => error.raw_os_error().unwrap_or(255),
        };
        // SAFETY: ends the child at once, as fork's contract asks.
        unsafe { sys::_exit(code) };
    }
    let mut status: c_int = 0;
    loop {
        // SAFETY: waitpid(2) writes the status into our local.
        let waited = check(unsafe { sys::waitpid(pid as c_int, &mut status, 0) }.into());
        match waited {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
            Ok(_) => break,
        }
    }
    // The status word of wait(2): low 7 bits a signal, else the exit code
    // in the next byte.
    match (status & 0x7f, (status >> 8) & 0xff) {
        (0, 0) => Ok(()),
        (0, code) => Err(io::Error::from_raw_os_error(code)),
        (signal, _) => Err(io::Error::other(format!(
            "the child died of signal {signal}"
        ))),
    }
}

/// ICMP over a raw socket, as `ping` does: with it a process can forge any
/// packet on the container's network.
pub(crate) fn open_raw_socket() -> Outcome {
    let (af_inet, sock_raw, ipproto_icmp) = (2, 3, 1);
    let call = "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)";
    // SAFETY: socket(2) takes integers only.
    match check(unsafe { sys::socket(af_inet, sock_raw, ipproto_icmp) }.into()) {
        Ok(fd) => {
            // SAFETY: `fd` is the socket just opened, used nowhere else.
            unsafe { sys::close(fd as c_int) };
            allowed(format!("{call}: opened (and closed)"))
        }
        Err(error) => refused(format!("{call}: {}", explain(&error))),
    }
}

// ANCHOR: set_clock
/// Ask `adjtimex` to set the clock's tick to 0. The kernel checks
/// `CAP_SYS_TIME` first and then rejects the tick, which must be within
/// 10% of its normal length, with `EINVAL`: nothing changes.
///
/// Rejected: `clock_settime` to the time just read. It would pass the
/// same check, but it steps the clock back by the microseconds in between,
/// resets the kernel's NTP state and wakes every timer that waits for the
/// clock to be set (systemd logs "Time has been changed"): not nothing.
pub(crate) fn set_clock() -> Outcome {
    const ADJ_TICK: c_uint = 0x4000;
    let mut timex = sys::Timex {
        modes: ADJ_TICK,
        before_tick: [0; 10],
        tick: 0,
        after_tick: [0; 14],
    };
    // SAFETY: adjtimex(2) reads and writes the struct timex we own.
    match check(unsafe { sys::adjtimex(&mut timex) }.into()) {
        Ok(_) => allowed("adjtimex(ADJ_TICK, 0): accepted".to_string()),
        Err(error) => past_the_check("adjtimex(ADJ_TICK, 0)", &error),
    }
}
// ANCHOR_END: set_clock

/// `reboot(2)` with a wrong second magic number. The kernel checks
/// `CAP_SYS_BOOT` (in the user namespace that owns our PID namespace)
/// first, then the magic numbers, and answers `EINVAL` without acting.
///
/// In a user namespace of its own, root passes that check, yet all a
/// reboot could do there is end the container's PID namespace: refused,
/// as far as the machine goes.
///
/// Rejected: a real command such as `LINUX_REBOOT_CMD_CAD_OFF`. In a PID
/// namespace of its own the kernel refuses it with `EINVAL` too, but in the
/// host's it would change how the host answers Ctrl-Alt-Del.
pub(crate) fn reboot_machine() -> Outcome {
    let (magic1, not_a_magic, cad_off) = (0xfee1_deadu32, 0, 0);
    // SAFETY: reboot(2) takes integers and a pointer it never reads here.
    let result = unsafe {
        sys::syscall(
            sys::SYS_REBOOT,
            magic1 as c_long,
            not_a_magic as c_long,
            cad_off as c_long,
            std::ptr::null::<c_void>(),
        )
    };
    match check(result) {
        Ok(_) => allowed("reboot: accepted a wrong magic number".to_string()),
        Err(error) => match past_the_check("reboot", &error) {
            outcome if outcome.allowed && in_user_namespace() => refused(format!(
                "reboot: passed the check for this container's PID namespace only ({})",
                error.raw_os_error().map_or("?".to_string(), errno_name)
            )),
            outcome => outcome,
        },
    }
}

/// Whether this process is in a user namespace other than the host's,
/// whose uid_map maps all 2^32 - 1 ids onto themselves.
fn in_user_namespace() -> bool {
    let map = fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    let fields: Vec<&str> = map.split_whitespace().collect();
    !map.is_empty() && fields != ["0", "0", "4294967295"]
}

/// The smallest program the verifier accepts, `r0 = 0; exit`, as a socket
/// filter, loaded and unloaded again (closing its only fd frees it).
pub(crate) fn load_bpf() -> Outcome {
    let (bpf_prog_load, socket_filter) = (5, 1);
    let program = [
        // BPF_ALU64 | BPF_MOV | BPF_K: r0 = 0
        sys::BpfInsn::op(0xb7),
        // BPF_JMP | BPF_EXIT
        sys::BpfInsn::op(0x95),
    ];
    let attr = sys::BpfProgLoad {
        prog_type: socket_filter,
        insn_cnt: program.len() as u32,
        insns: program.as_ptr() as u64,
        license: c"GPL".as_ptr() as u64,
        log_level: 0,
        log_size: 0,
        log_buf: 0,
        kern_version: 0,
        prog_flags: 0,
    };
    let call = "bpf(BPF_PROG_LOAD, socket filter)";
    // SAFETY: bpf(2) reads `attr` and, through it, `program` and the
    // license string, all of which outlive the call.
    let result = unsafe {
        sys::syscall(
            sys::SYS_BPF,
            bpf_prog_load as c_long,
            &attr as *const sys::BpfProgLoad,
            std::mem::size_of::<sys::BpfProgLoad>() as c_long,
        )
    };
    match check(result) {
        Ok(fd) => {
            // SAFETY: `fd` is the program just loaded, used nowhere else.
            unsafe { sys::close(fd as c_int) };
            allowed(format!("{call}: loaded (and unloaded)"))
        }
        Err(error) => refused(format!("{call}: {}", explain(&error))),
    }
}
