//! `linux.resources.devices` on cgroup v2: an eBPF program.
//!
//! cgroup v1 has files for device rules (`devices.allow`, `devices.deny`).
//! cgroup v2 has none: the kernel runs a small eBPF program, attached to
//! the cgroup, at each open or mknod of a device node, and the program's
//! answer (1 or 0) decides. This file writes that program from the rules,
//! the way v1 reads them: the last rule that matches wins.
//!
//! ```text
//! r2 = type        (ctx->access_type & 0xffff: 1 block, 2 char)
//! r3 = access      (ctx->access_type >> 16: 1 mknod, 2 read, 4 write)
//! r4 = major, r5 = minor
//! for each rule, last first:
//!     type differs, an access not granted, major or minor differs → next
//!     r0 = allow; exit
//! r0 = 1 unless a rule denied everything; exit
//! ```

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use oci_spec::runtime::LinuxDeviceCgroup;

/// One eBPF instruction, as `struct bpf_insn` lays it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    code: u8,
    /// dst in the low four bits, src in the high four.
    regs: u8,
    off: i16,
    imm: i32,
}

const LDX_W: u8 = 0x61; // dst = *(u32 *)(src + off)
const AND_K: u8 = 0x54; // dst &= imm (32 bits)
const RSH_K: u8 = 0x74; // dst >>= imm (32 bits)
const MOV_X: u8 = 0xbc; // dst = src (32 bits)
const MOV64_K: u8 = 0xb7; // dst = imm
const JNE_K: u8 = 0x55; // if dst != imm: pc += off
const EXIT: u8 = 0x95; // return r0

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

// ANCHOR: program
/// The program for `rules`.
pub fn program(rules: &[LinuxDeviceCgroup]) -> Vec<Insn> {
    let mut code = vec![
        insn(LDX_W, 2, 1, 0, 0),
        insn(AND_K, 2, 0, 0, 0xffff),
        insn(LDX_W, 3, 1, 0, 0),
        insn(RSH_K, 3, 0, 0, 16),
        insn(LDX_W, 4, 1, 4, 0),
        insn(LDX_W, 5, 1, 8, 0),
    ];
    let mut denies_all = false;
    for rule in rules.iter().rev() {
        let mut checks = Vec::new();
        match rule.typ().map(|t| t.as_str().to_string()).as_deref() {
            Some("b") => checks.push(insn(JNE_K, 2, 0, 0, 1)),
            Some("c") | Some("u") => checks.push(insn(JNE_K, 2, 0, 0, 2)),
            _ => {}
        }
        let access = access_bits(rule.access().as_deref().unwrap_or("rwm"));
        if access != 7 {
            // Every access asked for must be one the rule names.
            checks.push(insn(MOV_X, 1, 3, 0, 0));
            checks.push(insn(AND_K, 1, 0, 0, !access & 7));
            checks.push(insn(JNE_K, 1, 0, 0, 0));
        }
        if let Some(major) = rule.major().filter(|m| *m >= 0) {
            checks.push(insn(JNE_K, 4, 0, 0, major as i32));
        }
        if let Some(minor) = rule.minor().filter(|m| *m >= 0) {
            checks.push(insn(JNE_K, 5, 0, 0, minor as i32));
        }
        if checks.is_empty() && !rule.allow() {
            denies_all = true;
        }
        // Each failed check jumps past the rest of this rule: its own
        // remaining checks and the two instructions of its verdict.
        let count = checks.len();
        for (index, mut check) in checks.into_iter().enumerate() {
            if check.code == JNE_K {
                check.off = (count - index - 1 + 2) as i16;
            }
            code.push(check);
        }
        code.push(insn(MOV64_K, 0, 0, 0, i32::from(rule.allow())));
        code.push(insn(EXIT, 0, 0, 0, 0));
        if count == 0 {
            // A rule that matches everything: nothing after it is read.
            break;
        }
    }
    if !denies_all {
        code.push(insn(MOV64_K, 0, 0, 0, 1));
        code.push(insn(EXIT, 0, 0, 0, 0));
    }
    code
}
// ANCHOR_END: program

fn access_bits(access: &str) -> i32 {
    access.chars().fold(0, |bits, c| {
        bits | match c {
            'm' => 1,
            'r' => 2,
            'w' => 4,
            _ => 0,
        }
    })
}

/// The program as text, one instruction a line (for tests and the book).
pub fn disassemble(code: &[Insn]) -> String {
    let mut out = String::new();
    for (pc, i) in code.iter().enumerate() {
        let (dst, src) = (i.regs & 0xf, i.regs >> 4);
        let line = match i.code {
            LDX_W => format!("r{dst} = *(u32 *)(r{src} + {})", i.off),
            AND_K => format!("w{dst} &= {:#x}", i.imm),
            RSH_K => format!("w{dst} >>= {}", i.imm),
            MOV_X => format!("w{dst} = w{src}"),
            MOV64_K => format!("r{dst} = {}", i.imm),
            JNE_K => format!("if r{dst} != {} goto {}", i.imm, pc as i16 + 1 + i.off),
            EXIT => "exit".to_string(),
            other => format!("(opcode {other:#x})"),
        };
        out.push_str(&format!("{pc:>3}: {line}\n"));
    }
    out
}

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

fn bpf(command: libc::c_long, attr: &mut [u8; 128]) -> Result<i32, std::io::Error> {
    // SAFETY: bpf(2) reads (and for some commands writes) `attr`, a
    // buffer of the size we pass, whose pointers point at live memory.
    let result = unsafe { libc::syscall(libc::SYS_bpf, command, attr.as_mut_ptr(), attr.len()) };
    if result < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(result as i32)
    }
}

// ANCHOR: attach
/// Load the program for `rules` and attach it to the cgroup at `dir`.
/// The attachment keeps the program alive; it goes with the cgroup.
pub fn attach(dir: &Path, rules: &[LinuxDeviceCgroup]) -> Result<(), String> {
    let code = program(rules);
    let license = c"Apache-2.0";
    let mut log = vec![0u8; 4096];
    let mut attr = [0u8; 128];
    attr[0..4].copy_from_slice(&BPF_PROG_TYPE_CGROUP_DEVICE.to_ne_bytes());
    attr[4..8].copy_from_slice(&(code.len() as u32).to_ne_bytes());
    attr[8..16].copy_from_slice(&(code.as_ptr() as u64).to_ne_bytes());
    attr[16..24].copy_from_slice(&(license.as_ptr() as u64).to_ne_bytes());
    attr[24..28].copy_from_slice(&1u32.to_ne_bytes());
    attr[28..32].copy_from_slice(&(log.len() as u32).to_ne_bytes());
    attr[32..40].copy_from_slice(&(log.as_mut_ptr() as u64).to_ne_bytes());
    let program = bpf(BPF_PROG_LOAD, &mut attr).map_err(|e| {
        // The verifier's log ends with its reason, before the statistics.
        let log = String::from_utf8_lossy(&log);
        let lines: Vec<&str> = log
            .trim_end_matches('\0')
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        let reason = lines
            .iter()
            .rev()
            .find(|l| !l.starts_with("processed "))
            .unwrap_or(&"");
        format!("loading the device program: {e}: the verifier says: {reason}")
    })?;
    // SAFETY: bpf(2) just returned this descriptor, owned by nothing else.
    let program = unsafe { OwnedFd::from_raw_fd(program) };
    let cgroup = std::fs::File::open(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut attr = [0u8; 128];
    attr[0..4].copy_from_slice(&(cgroup.as_raw_fd() as u32).to_ne_bytes());
    attr[4..8].copy_from_slice(&(program.as_raw_fd() as u32).to_ne_bytes());
    attr[8..12].copy_from_slice(&BPF_CGROUP_DEVICE.to_ne_bytes());
    attr[12..16].copy_from_slice(&BPF_F_ALLOW_MULTI.to_ne_bytes());
    bpf(BPF_PROG_ATTACH, &mut attr)
        .map_err(|e| format!("attaching the device program to {}: {e}", dir.display()))?;
    Ok(())
}
// ANCHOR_END: attach

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podmans_rules_become_this_program() {
        let rules: Vec<LinuxDeviceCgroup> = serde_json::from_str(
            r#"[{"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                {"allow": true, "type": "c", "major": 136, "access": "rw"},
                {"allow": true, "type": "b", "access": "m"}]"#,
        )
        .expect("rules");
        let code = program(&rules);
        insta::assert_snapshot!(disassemble(&code));
        // The verifier refuses an offset on anything but a jump or a load.
        for (pc, i) in code.iter().enumerate() {
            assert!(
                i.off == 0 || i.code == JNE_K || i.code == LDX_W,
                "{pc}: {i:?}"
            );
        }
    }

    #[test]
    fn without_a_deny_all_rule_the_rest_is_allowed() {
        let rules: Vec<LinuxDeviceCgroup> = serde_json::from_str(
            r#"[{"allow": false, "type": "c", "major": 10, "minor": 200, "access": "rw"}]"#,
        )
        .expect("rules");
        insta::assert_snapshot!(disassemble(&program(&rules)));
    }
}
