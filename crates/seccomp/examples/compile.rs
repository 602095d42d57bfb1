//! Compile a seccomp profile and print the BPF program the kernel gets.
//!
//! ```text
//! cargo run -q -p cratebox-seccomp --example compile                  docker's default, docker's 14 capabilities
//! cargo run -q -p cratebox-seccomp --example compile -- --cap CAP_SYS_ADMIN
//! cargo run -q -p cratebox-seccomp --example compile -- my-profile.json
//! ```

use cratebox_seccomp::{Profile, Target, DOCKER_DEFAULT_CAPABILITIES};

fn main() {
    let mut capabilities: Vec<String> = DOCKER_DEFAULT_CAPABILITIES.map(String::from).to_vec();
    let mut path = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.len()) {
            ("--cap", 1..) => capabilities.extend(args.next()),
            _ => path = Some(arg),
        }
    }
    let profile = match &path {
        Some(path) => Profile::read(std::path::Path::new(path)),
        None => Ok(Profile::docker_default()),
    };
    let filter = profile.map_err(|e| e.to_string()).and_then(|profile| {
        profile
            .compile(&Target::host(capabilities))
            .map_err(|e| e.to_string())
    });
    match filter {
        Ok(filter) => {
            // `| head` may close the pipe early: that is not an error here.
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{} instructions", filter.instructions().len());
            let _ = write!(out, "{}", filter.disassemble());
        }
        Err(message) => {
            eprintln!("compile: {message}");
            std::process::exit(1);
        }
    }
}
