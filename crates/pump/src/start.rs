//! The pump's entry point. With no C library there is no `main` that
//! anything calls: the kernel jumps to `_start` with the stack holding
//! `argc`, the `argv` pointers, a null, the `envp` pointers, a null.
//!
//! crates/runtime/build.rs compiles this file, with the library beside it,
//! into a static binary with panics that abort.

#![no_std]
#![no_main]
// The memory functions below must stay loops: without this, the compiler
// would turn them into calls to themselves.
#![no_builtins]

use cratebox_pump::{args, pump, sys};

core::arch::global_asm!(
    ".globl _start",
    "_start:",
    // The stack pointer is where argc is; hand it to `entry`, with the
    // stack aligned to 16 bytes as a call requires.
    "mov rdi, rsp",
    "and rsp, -16",
    "call {entry}",
    "ud2",
    entry = sym entry,
);

/// # Safety
/// Called once, by `_start`, with the stack the kernel laid out.
unsafe extern "C" fn entry(stack: *const usize) -> ! {
    // SAFETY: the kernel's layout: argc, then argc pointers and a null,
    // then the environment's pointers and a null.
    let (argv, envp) = unsafe {
        let argc = *stack;
        let argv = stack.add(1) as *const args::CStr;
        (core::slice::from_raw_parts(argv, argc), argv.add(argc + 1))
    };
    // SAFETY: the kernel's argument strings live as long as we do.
    match unsafe { args::parse(argv.get(1..).unwrap_or(&[])) } {
        Ok(args) => pump::run(&args, envp),
        Err(wrong) => {
            let _ = sys::write_all(2, b"cratebox-pump: ");
            let _ = sys::write_all(
                2,
                match wrong {
                    args::Wrong::Unknown => b"unknown option\n".as_slice(),
                    args::Wrong::NotANumber => b"a value is not a number\n",
                    args::Wrong::Missing => b"an option misses its value, or --then is missing\n",
                    args::Wrong::TooLong => b"a command has too many words\n",
                },
            );
            let _ = sys::write_all(2, b"it is started by cratebox's supervisor, not by hand\n");
            sys::exit(125)
        }
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    let _ = sys::write_all(2, b"cratebox-pump: panicked\n");
    sys::exit(125)
}

/// Referenced by the precompiled `core`, never called: panics abort.
#[no_mangle]
extern "C" fn rust_eh_personality() {}

// The compiler calls these for copies, fills and comparisons; a C library
// would provide them. Plain loops: the pump moves a few kilobytes at a time.

/// # Safety
/// As C's memcpy: `n` bytes valid at both, not overlapping.
#[no_mangle]
unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: within the `n` bytes the caller vouches for.
        unsafe { *dest.add(i) = *src.add(i) };
    }
    dest
}

/// # Safety
/// As C's memmove: `n` bytes valid at both, which may overlap.
#[no_mangle]
unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize) < (src as usize) {
        for i in 0..n {
            // SAFETY: within the `n` bytes; forward, so no byte is read
            // after it was overwritten.
            unsafe { *dest.add(i) = *src.add(i) };
        }
    } else {
        for i in (0..n).rev() {
            // SAFETY: as above, backward.
            unsafe { *dest.add(i) = *src.add(i) };
        }
    }
    dest
}

/// # Safety
/// As C's memset: `n` bytes valid at `dest`.
#[no_mangle]
unsafe extern "C" fn memset(dest: *mut u8, byte: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: within the `n` bytes the caller vouches for.
        unsafe { *dest.add(i) = byte as u8 };
    }
    dest
}

/// # Safety
/// As C's memcmp: `n` bytes valid at both.
#[no_mangle]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: within the `n` bytes the caller vouches for.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// # Safety
/// As C's bcmp (memcmp that only tells equal or not).
#[no_mangle]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: as the caller vouches.
    unsafe { memcmp(a, b, n) }
}

/// # Safety
/// As C's strlen: a NUL-terminated string.
#[no_mangle]
unsafe extern "C" fn strlen(text: *const u8) -> usize {
    let mut len = 0;
    // SAFETY: up to the NUL the caller vouches for.
    while unsafe { *text.add(len) } != 0 {
        len += 1;
    }
    len
}
