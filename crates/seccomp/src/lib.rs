//! # cratebox-seccomp: which system calls a container may make
//!
//! Namespaces hide the host, cgroups ration it, capabilities take root's
//! powers away one by one. All of them still leave the container's process
//! talking to the host's one kernel through some 350 system calls, and
//! every one of them is a door a kernel bug may hide behind. seccomp closes
//! the doors a container has no business opening: the process hands the
//! kernel a small program, and from then on the kernel runs it on every
//! call and does what it returns: run the call, fail it with an errno, or
//! kill the process.
//!
//! docker describes what to allow in a JSON *profile*: a default action
//! (EPERM) and a list of calls that are allowed, some only with certain
//! arguments (`clone` without namespace flags), some only for containers
//! with a capability (`mount` with `CAP_SYS_ADMIN`). This crate reads
//! docker's format, ships docker's rules as `profiles/default.json`, and
//! compiles a profile to the program the kernel wants: classic BPF.
//!
//! ## Why our own compiler
//!
//! Two libraries do this job. libseccomp, which docker uses, is a C library:
//! cratebox links none. seccompiler, the Rust one firecracker uses, gives a
//! filter a single match action, and docker's profile needs several:
//! most calls are allowed, the default is EPERM, but `clone3` must fail with
//! ENOSYS so that glibc falls back to `clone`, whose flags the filter can
//! read (`clone3` passes them in memory, where BPF cannot look). And the
//! compiler is chapter 9's lesson: it is two short passes and a little
//! assembler, and seeing the program makes the kernel's side plain.
//!
//! | file | what |
//! |---|---|
//! | [`profile`] | docker's JSON format read into checked types: [`Profile`], [`Entry`], [`Op`] |
//! | [`error`] | [`ProfileError`]: `seccomp profile: entry 12 (names ["foo"]): unknown action ...` |
//! | [`action`] | [`Action`]: what a filter returns, as the kernel's `SECCOMP_RET_*` |
//! | [`arch`] | [`Arch`]: each architecture's syscall numbers and `AUDIT_ARCH` value |
//! | [`target`] | [`Target`]: the container's capabilities and the host's kernel, which `includes`/`excludes` ask about |
//! | [`plan`] | [`Profile::rules`]: the entries that apply, by syscall number (pure) |
//! | `asm` | classic BPF opcodes, and an assembler that resolves labels and long jumps |
//! | `codegen` | [`Profile::compile`]: rules to a BPF program |
//! | `search` | the number line cut into ranges of one verdict, and the binary search over them that starts the program |
//! | `filter` | [`Filter`] and [`Filter::load`]: seccomp(2) |
//! | `disasm` | [`Filter::disassemble`]: the program as text |
//! | `interp` | [`Filter::evaluate`]: the program run on a pretend call, without the kernel |
//!
//! The flow in chapter 9: [`Profile::docker_default`] (or [`Profile::read`]
//! for `--security-opt seccomp=FILE`), [`Profile::compile`] for
//! [`Target::host`] with the container's capabilities, then in the
//! container's first process, right before `execve`: `no_new_privs`, then
//! [`Filter::load`].
//!
//! ```
//! use cratebox_seccomp::{Action, Arch, Profile, Target};
//!
//! let target = Target { arch: Arch::X86_64, capabilities: vec![], kernel: (6, 1) };
//! let filter = Profile::docker_default().compile(&target)?;
//! let getpid = Arch::X86_64.syscall("getpid").expect("x86_64 has getpid");
//! let reboot = Arch::X86_64.syscall("reboot").expect("and reboot");
//! assert_eq!(filter.evaluate(Arch::X86_64.audit(), getpid.into(), [0; 6]), Action::Allow);
//! assert_eq!(filter.evaluate(Arch::X86_64.audit(), reboot.into(), [0; 6]), Action::Errno(1));
//! # Ok::<(), cratebox_seccomp::CompileError>(())
//! ```

pub mod action;
pub mod arch;
mod asm;
mod codegen;
mod disasm;
pub mod error;
mod filter;
mod interp;
pub mod plan;
pub mod profile;
mod search;
pub mod target;

pub use action::Action;
pub use arch::Arch;
pub use error::{CompileError, Place, ProfileError, ProfileErrorKind};
pub use filter::Filter;
pub use plan::{Rule, Ruleset};
pub use profile::{ArgCheck, Condition, Entry, Op, Profile};
pub use target::{Target, DOCKER_DEFAULT_CAPABILITIES};
