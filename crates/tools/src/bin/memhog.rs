//! `memhog`: use memory until told to stop, or until the kernel stops us.
//!
//! `memhog [MIB]` allocates MIB mebibytes (default: without end), one at a
//! time, writing to every page so the memory is really used (untouched
//! pages cost nothing), and says so every 8 MiB. Under a memory limit the
//! cgroup's OOM killer ends it with SIGKILL part way: the last line it
//! printed tells how far it got.
//!
//! Only `std`: the demo image's build script compiles it as a static binary.

use std::io::Write;

const MIB: usize = 1 << 20;

fn main() {
    let target: Option<usize> = match std::env::args().nth(1) {
        None => None,
        Some(arg) => match arg.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                eprintln!("usage: memhog [MIB]");
                std::process::exit(2);
            }
        },
    };
    let mut held: Vec<Vec<u8>> = Vec::new();
    let mut stdout = std::io::stdout();
    loop {
        if target.is_some_and(|t| held.len() >= t) {
            println!("memhog: holding {} MiB, done", held.len());
            return;
        }
        // Non-zero bytes: the kernel must give us real pages for them.
        held.push(vec![0x5a; MIB]);
        if held.len().is_multiple_of(8) {
            let _ = writeln!(stdout, "memhog: {} MiB", held.len());
            let _ = stdout.flush();
        }
    }
}
