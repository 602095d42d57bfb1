//! Which platform an image is for, in the OCI spec's words.
//!
//! An image config says `"architecture": "amd64", "os": "linux"`: Go's
//! names (`GOARCH`, `GOOS`), which the spec adopted, not Rust's or the
//! kernel's (`x86_64`). Every image cratebox makes from this machine's
//! files (import, commit, build, the demo image) is for this machine, and
//! says so with the one function below.

/// The OCI (Go) name of the architecture this program was built for:
/// `amd64`, `arm64`, `386`, ...
pub fn architecture() -> &'static str {
    oci_architecture(std::env::consts::ARCH, cfg!(target_endian = "little"))
}

/// The operating system every cratebox image is for.
pub const OS: &str = "linux";

/// Rust's name for an architecture (`std::env::consts::ARCH`) as the OCI
/// spec names it. Names that agree pass through (`riscv64`, `s390x`).
pub fn oci_architecture(rust_arch: &str, little_endian: bool) -> &'static str {
    match (rust_arch, little_endian) {
        ("x86_64", _) => "amd64",
        ("x86", _) => "386",
        ("aarch64", _) => "arm64",
        ("arm", _) => "arm",
        ("powerpc64", true) => "ppc64le",
        ("powerpc64", false) => "ppc64",
        ("mips64", true) => "mips64le",
        ("mips64", false) => "mips64",
        ("mips", true) => "mipsle",
        ("mips", false) => "mips",
        ("loongarch64", _) => "loong64",
        ("riscv64", _) => "riscv64",
        ("s390x", _) => "s390x",
        ("wasm32", _) => "wasm",
        // Anything else: Rust's name, which is at least honest.
        (_, _) => leak_free_fallback(rust_arch),
    }
}

/// The names above are `&'static str`; an unknown one is matched against
/// the compile-time constant so it can be returned without allocating.
fn leak_free_fallback(rust_arch: &str) -> &'static str {
    if rust_arch == std::env::consts::ARCH {
        std::env::consts::ARCH
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_names_become_oci_names() {
        let table: Vec<String> = [
            ("x86_64", true),
            ("x86", true),
            ("aarch64", true),
            ("arm", true),
            ("powerpc64", true),
            ("powerpc64", false),
            ("mips64", true),
            ("loongarch64", true),
            ("riscv64", true),
            ("s390x", false),
        ]
        .iter()
        .map(|(arch, little)| format!("{arch} -> {}", oci_architecture(arch, *little)))
        .collect();
        insta::assert_snapshot!(table.join("\n"), @r"
        x86_64 -> amd64
        x86 -> 386
        aarch64 -> arm64
        arm -> arm
        powerpc64 -> ppc64le
        powerpc64 -> ppc64
        mips64 -> mips64le
        loongarch64 -> loong64
        riscv64 -> riscv64
        s390x -> s390x
        ");
    }

    #[test]
    fn this_machine_has_an_oci_name() {
        assert_ne!(architecture(), "unknown");
        assert_ne!(architecture(), "x86_64");
        assert_ne!(architecture(), "aarch64");
    }
}
