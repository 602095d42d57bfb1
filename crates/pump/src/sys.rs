//! The system calls the pump makes, straight to the kernel.
//!
//! There is no C library under the pump, so nothing turns `read(2)` into
//! the `syscall` instruction for us: each function below puts the call's
//! number in `rax` and its arguments in `rdi`, `rsi`, `rdx`, `r10`, `r8`,
//! `r9`, as the x86-64 Linux ABI says, and the kernel answers in `rax`: a
//! value, or minus an errno. The numbers are those of the kernel's
//! `arch/x86/entry/syscalls/syscall_64.tbl`.

use core::arch::asm;

/// An errno, as the kernel returned it (positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

/// Interrupted by a signal.
pub const EINTR: Errno = Errno(4);
/// Nothing there now (a non-blocking socket).
pub const EAGAIN: Errno = Errno(11);

const READ: usize = 0;
const WRITE: usize = 1;
const CLOSE: usize = 3;
const RT_SIGPROCMASK: usize = 14;
const IOCTL: usize = 16;
const CLONE: usize = 56;
const EXECVE: usize = 59;
const WAIT4: usize = 61;
const KILL: usize = 62;
const PRCTL: usize = 157;
const CLOCK_GETTIME: usize = 228;
const EXIT_GROUP: usize = 231;
const PPOLL: usize = 271;
const ACCEPT4: usize = 288;
const SIGNALFD4: usize = 289;

// ANCHOR: syscall
/// # Safety
/// The arguments must be what system call `number` expects; pointers
/// among them must be valid for what the kernel reads or writes.
unsafe fn syscall6(number: usize, args: [usize; 6]) -> Result<usize, Errno> {
    let ret: isize;
    // SAFETY: the caller vouches for the arguments; `syscall` clobbers
    // rcx and r11, and touches no memory the caller did not hand it.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") number as isize => ret,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    if (-4095..0).contains(&ret) {
        Err(Errno(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}

// ANCHOR_END: syscall

/// read(2).
pub fn read(fd: i32, buffer: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `len` bytes into the buffer.
    unsafe {
        syscall6(
            READ,
            [
                fd as usize,
                buffer.as_mut_ptr() as usize,
                buffer.len(),
                0,
                0,
                0,
            ],
        )
    }
}

/// write(2).
pub fn write(fd: i32, data: &[u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel reads at most `len` bytes from the slice.
    unsafe {
        syscall6(
            WRITE,
            [fd as usize, data.as_ptr() as usize, data.len(), 0, 0, 0],
        )
    }
}

/// Write all of `data`, again after a short write or a signal.
pub fn write_all(fd: i32, mut data: &[u8]) -> Result<(), Errno> {
    while !data.is_empty() {
        match write(fd, data) {
            Ok(0) => return Err(Errno(5)),
            Ok(n) => data = &data[n..],
            Err(EINTR) => {}
            Err(errno) => return Err(errno),
        }
    }
    Ok(())
}

/// close(2).
pub fn close(fd: i32) {
    // SAFETY: closing a number is always memory-safe.
    let _ = unsafe { syscall6(CLOSE, [fd as usize, 0, 0, 0, 0, 0]) };
}

/// A set of signals, one bit each (the kernel's `sigset_t` on x86-64).
pub type SigSet = u64;

/// The bit for signal `signo`.
pub const fn sig_bit(signo: i32) -> SigSet {
    1 << (signo - 1)
}

/// rt_sigprocmask(2) with SIG_SETMASK: block exactly `set`.
pub fn set_blocked(set: SigSet) -> Result<(), Errno> {
    const SIG_SETMASK: usize = 2;
    // SAFETY: the kernel reads one 8-byte set.
    unsafe {
        syscall6(
            RT_SIGPROCMASK,
            [SIG_SETMASK, &set as *const SigSet as usize, 0, 8, 0, 0],
        )
    }
    .map(|_| ())
}

/// signalfd4(2): a descriptor to read the (blocked) signals of `set` from.
pub fn signalfd(set: SigSet) -> Result<i32, Errno> {
    const SFD_CLOEXEC: usize = 0o2000000;
    // SAFETY: the kernel reads one 8-byte set.
    unsafe {
        syscall6(
            SIGNALFD4,
            [
                usize::MAX,
                &set as *const SigSet as usize,
                8,
                SFD_CLOEXEC,
                0,
                0,
            ],
        )
    }
    .map(|fd| fd as i32)
}

/// One entry of ppoll(2)'s array (`struct pollfd`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct PollFd {
    /// The descriptor; a negative one is skipped.
    pub fd: i32,
    /// What to wait for.
    pub events: i16,
    /// What happened.
    pub revents: i16,
}

/// Data to read.
pub const POLLIN: i16 = 1;

/// A time, as the kernel's `struct timespec`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    /// Seconds.
    pub sec: i64,
    /// Nanoseconds, below a billion.
    pub nsec: i64,
}

impl Timespec {
    /// Nanoseconds since the clock's start.
    pub fn nanos(self) -> u64 {
        (self.sec as u64) * 1_000_000_000 + self.nsec as u64
    }

    /// A time from nanoseconds.
    pub fn from_nanos(nanos: u64) -> Timespec {
        Timespec {
            sec: (nanos / 1_000_000_000) as i64,
            nsec: (nanos % 1_000_000_000) as i64,
        }
    }
}

/// ppoll(2): wait until one of `fds` is ready, or `timeout` has passed
/// (`None`: no limit). Returns how many are ready.
pub fn poll(fds: &mut [PollFd], timeout: Option<Timespec>) -> Result<usize, Errno> {
    let timeout_ptr = match &timeout {
        Some(t) => t as *const Timespec as usize,
        None => 0,
    };
    // SAFETY: the array and the timeout outlive the call.
    unsafe {
        syscall6(
            PPOLL,
            [fds.as_mut_ptr() as usize, fds.len(), timeout_ptr, 0, 8, 0],
        )
    }
}

/// The clock of the wall (UTC).
pub const CLOCK_REALTIME: usize = 0;
/// A clock that only goes forward, for intervals.
pub const CLOCK_MONOTONIC: usize = 1;

/// clock_gettime(2).
pub fn clock(which: usize) -> Timespec {
    let mut time = Timespec::default();
    // SAFETY: the kernel writes one timespec.
    let _ = unsafe {
        syscall6(
            CLOCK_GETTIME,
            [which, &mut time as *mut Timespec as usize, 0, 0, 0, 0],
        )
    };
    time
}

/// kill(2).
pub fn kill(pid: i32, signo: i32) {
    // SAFETY: no memory is passed.
    let _ = unsafe { syscall6(KILL, [pid as usize, signo as usize, 0, 0, 0, 0]) };
}

/// How a process ended, as wait4(2) tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reaped {
    /// Its pid.
    pub pid: i32,
    /// Its exit code, as a shell says it: 128 + the signal that killed it.
    pub code: i32,
}

/// wait4(2) with WNOHANG for any child: one that has ended, if any.
pub fn reap_one() -> Option<Reaped> {
    const WNOHANG: usize = 1;
    let mut status: i32 = 0;
    // SAFETY: the kernel writes one int.
    let pid = unsafe {
        syscall6(
            WAIT4,
            [
                usize::MAX,
                &mut status as *mut i32 as usize,
                WNOHANG,
                0,
                0,
                0,
            ],
        )
    };
    match pid {
        Ok(0) | Err(_) => None,
        Ok(pid) => Some(Reaped {
            pid: pid as i32,
            code: exit_code(status),
        }),
    }
}

/// A wait status as a shell's exit code: WIFEXITED gives WEXITSTATUS,
/// WIFSIGNALED gives 128 + WTERMSIG.
pub fn exit_code(status: i32) -> i32 {
    let signal = status & 0x7f;
    if signal == 0 {
        (status >> 8) & 0xff
    } else {
        128 + signal
    }
}

/// fork(2), as clone(2) with only SIGCHLD: 0 in the child, its pid in us.
pub fn fork() -> Result<i32, Errno> {
    const SIGCHLD: usize = 17;
    // SAFETY: without CLONE_VM the child gets a copy of our memory; we
    // have one thread and no locks, so the copy is consistent.
    unsafe { syscall6(CLONE, [SIGCHLD, 0, 0, 0, 0, 0]) }.map(|pid| pid as i32)
}

/// execve(2); returns only when it failed.
///
/// # Safety
/// `path` must end with a NUL; `argv` and `envp` must be arrays of
/// NUL-terminated strings, each array ending with a null pointer.
pub unsafe fn execve(path: *const u8, argv: *const *const u8, envp: *const *const u8) -> Errno {
    // SAFETY: as the caller vouches.
    match unsafe {
        syscall6(
            EXECVE,
            [path as usize, argv as usize, envp as usize, 0, 0, 0],
        )
    } {
        Ok(_) => Errno(0),
        Err(errno) => errno,
    }
}

/// exit_group(2).
pub fn exit(code: i32) -> ! {
    // SAFETY: no memory is passed; the call does not return.
    let _ = unsafe { syscall6(EXIT_GROUP, [code as usize, 0, 0, 0, 0, 0]) };
    unreachable_loop()
}

fn unreachable_loop() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// accept4(2), the new socket close-on-exec.
pub fn accept(listener: i32) -> Result<i32, Errno> {
    const SOCK_CLOEXEC: usize = 0o2000000;
    // SAFETY: no address is asked for.
    unsafe { syscall6(ACCEPT4, [listener as usize, 0, 0, SOCK_CLOEXEC, 0, 0]) }.map(|fd| fd as i32)
}

/// ioctl(2) TIOCSWINSZ: a terminal's window size.
pub fn set_window_size(terminal: i32, rows: u16, cols: u16) {
    const TIOCSWINSZ: usize = 0x5414;
    let size: [u16; 4] = [rows, cols, 0, 0];
    // SAFETY: the kernel reads one `struct winsize` (four u16).
    let _ = unsafe {
        syscall6(
            IOCTL,
            [
                terminal as usize,
                TIOCSWINSZ,
                size.as_ptr() as usize,
                0,
                0,
                0,
            ],
        )
    };
}

/// prctl(2) PR_SET_NAME: what `ps` shows as our name.
pub fn set_name(name: &[u8; 16]) {
    const PR_SET_NAME: usize = 15;
    // SAFETY: the kernel reads up to 16 bytes, NUL-terminated.
    let _ = unsafe { syscall6(PRCTL, [PR_SET_NAME, name.as_ptr() as usize, 0, 0, 0, 0]) };
}
