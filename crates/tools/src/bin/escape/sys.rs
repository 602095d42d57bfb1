//! What this program needs of the C library and the kernel that std does
//! not wrap: the functions, the numbers of the system calls glibc has no
//! wrapper for, and the structs they take, laid out as on 64-bit Linux.

use std::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};

/// The numbers of the system calls made through `syscall(3)`: those glibc
/// has no wrapper for, and `reboot`, whose wrapper fills in the magic
/// numbers itself. x86_64 has a table of its own; aarch64 uses the
/// kernel's generic one (asm-generic/unistd.h).
#[cfg(target_arch = "x86_64")]
mod numbers {
    use std::ffi::c_long;

    pub const SYS_INIT_MODULE: c_long = 175;
    pub const SYS_KEYCTL: c_long = 250;
    pub const SYS_BPF: c_long = 321;
    pub const SYS_MKNODAT: c_long = 259;
    pub const SYS_REBOOT: c_long = 169;
}
#[cfg(target_arch = "aarch64")]
mod numbers {
    use std::ffi::c_long;

    pub const SYS_INIT_MODULE: c_long = 105;
    pub const SYS_KEYCTL: c_long = 219;
    pub const SYS_BPF: c_long = 280;
    pub const SYS_MKNODAT: c_long = 33;
    pub const SYS_REBOOT: c_long = 142;
}
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("escape knows the system call numbers of x86_64 and aarch64 only");

pub use numbers::*;

/// glibc's `struct timex`, for `adjtimex(2)`, on 64-bit Linux.
#[repr(C)]
pub struct Timex {
    pub modes: c_uint,
    pub before_tick: [c_long; 10],
    pub tick: c_long,
    pub after_tick: [c_long; 14],
}
const _: () = assert!(std::mem::size_of::<Timex>() == 208, "64-bit struct timex");

/// One eBPF instruction (`struct bpf_insn`).
#[repr(C)]
pub struct BpfInsn {
    pub code: u8,
    /// Destination register in the low nibble, source in the high.
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

impl BpfInsn {
    /// The instruction `code` with registers r0, offset 0 and immediate 0.
    pub const fn op(code: u8) -> Self {
        BpfInsn {
            code,
            regs: 0,
            off: 0,
            imm: 0,
        }
    }
}

/// The `BPF_PROG_LOAD` part of `union bpf_attr`, up to `prog_flags`:
/// the kernel zero-fills the fields past the size it is given.
#[repr(C)]
pub struct BpfProgLoad {
    pub prog_type: u32,
    pub insn_cnt: u32,
    pub insns: u64,
    pub license: u64,
    pub log_level: u32,
    pub log_size: u32,
    pub log_buf: u64,
    pub kern_version: u32,
    pub prog_flags: u32,
}

extern "C" {
    pub fn syscall(number: c_long, ...) -> c_long;
    pub fn mount(
        source: *const c_char,
        target: *const c_char,
        fstype: *const c_char,
        flags: c_ulong,
        data: *const c_void,
    ) -> c_int;
    pub fn umount2(target: *const c_char, flags: c_int) -> c_int;
    pub fn ptrace(request: c_int, ...) -> c_long;
    pub fn prctl(option: c_int, ...) -> c_int;
    pub fn unshare(flags: c_int) -> c_int;
    pub fn socket(domain: c_int, kind: c_int, protocol: c_int) -> c_int;
    pub fn close(fd: c_int) -> c_int;
    pub fn adjtimex(buf: *mut Timex) -> c_int;
    pub fn fork() -> c_int;
    pub fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    pub fn _exit(status: c_int) -> !;
}
