//! Which files a dynamically linked program needs, read from its ELF headers.
//!
//! A program copied into an image on its own does not start: the kernel first
//! loads the *interpreter* named in its `PT_INTERP` program header (the
//! dynamic loader, `/lib64/ld-linux-x86-64.so.2`), and the loader then opens
//! every library named by a `DT_NEEDED` entry, and their `DT_NEEDED` entries in
//! turn. This module walks that graph the way `ld.so(8)` does, so the image
//! gets exactly those files.
//!
//! We read the headers with `goblin` rather than running `ldd`: `ldd` runs the
//! loader on the binary (never safe on an untrusted one), is missing on musl
//! hosts, and hides the search order this module exists to show.
//!
//! The search order for a name without a slash, from `ld.so(8)`:
//!
//! 1. `DT_RPATH` of the object, only when it has no `DT_RUNPATH`;
//! 2. (`LD_LIBRARY_PATH`: deliberately ignored, the image must not depend on
//!    the environment of whoever built it);
//! 3. `DT_RUNPATH` of the object;
//! 4. the directories in `/etc/ld.so.conf` (the real loader reads them from the
//!    cache `ldconfig` builds, `/etc/ld.so.cache`);
//! 5. the default directories.
//!
//! In the first two, `$ORIGIN` stands for the directory of the object itself.

use std::collections::{HashSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

use goblin::elf::program_header::PT_INTERP;
use goblin::elf::Elf;

/// Where glibc's loader looks last, after the configured directories.
const DEFAULT_DIRS: [&str; 6] = [
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
];

/// The loader's configuration; `include` lines in it pull in more files.
const LD_SO_CONF: &str = "/etc/ld.so.conf";

/// What can go wrong while reading a binary's dependencies.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    /// The file could not be read at all.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not an ELF object (a script, a text file, ...).
    #[error("{path} is not an ELF binary: {reason}")]
    NotElf { path: PathBuf, reason: String },
    /// A library named by `DT_NEEDED` is nowhere on the search path, so the
    /// program could not start on this host either.
    #[error(
        "{needed_by} needs {name}, which is in none of the library directories (is it installed?)"
    )]
    Missing { needed_by: PathBuf, name: String },
}

/// The files the loader opens to start `binary`: its interpreter first, then
/// every library it needs, directly or not, each once, in the order found.
///
/// Paths are the ones the loader *looks up* (e.g. `/lib/x86_64-linux-gnu/libc.so.6`),
/// not where symlinks lead: that is the path the image must provide. A static
/// binary has no interpreter and no `DT_NEEDED`, so its list is empty.
pub fn dependencies(binary: &Path) -> Result<Vec<PathBuf>, ElfError> {
    let bytes = read(binary)?;
    let root = parse(binary, &bytes)?;
    // Only libraries built for the same machine and word size can be loaded;
    // /lib may also hold 32-bit ones with the same names.
    let kind = (root.header.e_machine, root.is_64);

    let mut found: Vec<PathBuf> = Vec::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    if let Some(interpreter) = root.interpreter {
        let path = PathBuf::from(interpreter);
        seen.insert(path.clone());
        found.push(path);
    }

    let system_dirs = system_dirs();
    let mut queue = VecDeque::from([binary.to_path_buf()]);
    while let Some(object) = queue.pop_front() {
        let bytes = read(&object)?;
        let elf = parse(&object, &bytes)?;
        let own_dirs = own_search_dirs(&object, &elf);
        for name in &elf.libraries {
            let path =
                locate(name, &own_dirs, &system_dirs, kind).ok_or_else(|| ElfError::Missing {
                    needed_by: object.clone(),
                    name: (*name).to_string(),
                })?;
            if seen.insert(path.clone()) {
                found.push(path.clone());
                queue.push_back(path);
            }
        }
    }
    Ok(found)
}

/// True when `binary` is an ELF file that the kernel runs without a loader:
/// no `PT_INTERP` program header. Such a file can be copied into an empty
/// image on its own.
pub fn is_static(binary: &Path) -> Result<bool, ElfError> {
    let bytes = read(binary)?;
    let elf = parse(binary, &bytes)?;
    Ok(!elf.program_headers.iter().any(|h| h.p_type == PT_INTERP))
}

fn read(path: &Path) -> Result<Vec<u8>, ElfError> {
    fs::read(path).map_err(|source| ElfError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<Elf<'a>, ElfError> {
    Elf::parse(bytes).map_err(|e| ElfError::NotElf {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Steps 1 and 3 of the search order: the directories an object names itself.
fn own_search_dirs(object: &Path, elf: &Elf) -> Vec<PathBuf> {
    // DT_RPATH is ignored when DT_RUNPATH is present (ld.so(8)).
    let lists = if elf.runpaths.is_empty() {
        &elf.rpaths
    } else {
        &elf.runpaths
    };
    let origin = object.parent().unwrap_or(Path::new("/"));
    let origin = origin.to_string_lossy();
    lists
        .iter()
        .flat_map(|list| list.split(':'))
        .filter(|dir| !dir.is_empty())
        .map(|dir| {
            PathBuf::from(
                dir.replace("${ORIGIN}", &origin)
                    .replace("$ORIGIN", &origin),
            )
        })
        .collect()
}

/// Steps 4 and 5: the host's configured directories, then the defaults.
fn system_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    read_ld_so_conf(Path::new(LD_SO_CONF), 0, &mut dirs);
    dirs.extend(DEFAULT_DIRS.iter().map(PathBuf::from));
    dirs
}

/// Append the directories listed in one ld.so.conf-style file, following its
/// `include` lines. A missing file adds nothing: many minimal hosts have none.
fn read_ld_so_conf(path: &Path, depth: u32, dirs: &mut Vec<PathBuf>) {
    // Includes that include each other would otherwise recurse forever.
    if depth > 8 {
        return;
    }
    let Ok(text) = fs::read_to_string(path) else {
        return;
    };
    let base = path.parent().unwrap_or(Path::new("/"));
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(pattern) = line.strip_prefix("include") {
            for pattern in pattern.split_whitespace() {
                for file in expand_glob(&base.join(pattern)) {
                    read_ld_so_conf(&file, depth + 1, dirs);
                }
            }
        } else if line.starts_with('/') {
            dirs.push(PathBuf::from(line));
        }
        // Anything else (`hwcap` lines, blank lines) names no directory.
    }
}

/// The files matching `pattern`, sorted as glob(3) would sort them. Only the
/// last component may hold wildcards, which is all ld.so.conf files use
/// (`include /etc/ld.so.conf.d/*.conf`).
fn expand_glob(pattern: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (pattern.parent(), pattern.file_name()) else {
        return Vec::new();
    };
    let name = name.to_string_lossy();
    if !name.contains(['*', '?']) {
        return vec![pattern.to_path_buf()];
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| wildcard_match(&name, &entry.file_name().to_string_lossy()))
        .map(|entry| entry.path())
        .collect();
    files.sort();
    files
}

/// Shell-style matching of `*` (any run) and `?` (one character).
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // Backtracking over the last `*`: linear enough for file names.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Find the file the loader would open for `name`.
fn locate(
    name: &str,
    own_dirs: &[PathBuf],
    system_dirs: &[PathBuf],
    kind: (u16, bool),
) -> Option<PathBuf> {
    // A name with a slash is a path, used as it is (ld.so(8)).
    if name.contains('/') {
        return Some(PathBuf::from(name));
    }
    own_dirs
        .iter()
        .chain(system_dirs)
        .map(|dir| dir.join(name))
        .find(|candidate| loadable(candidate, kind))
}

/// Whether `path` is an ELF object of the wanted machine and word size; the
/// loader skips anything else and keeps searching.
fn loadable(path: &Path, kind: (u16, bool)) -> bool {
    let Ok(bytes) = fs::read(path) else {
        return false;
    };
    Elf::parse(&bytes).is_ok_and(|elf| (elf.header.e_machine, elf.is_64) == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_ls_needs_libc_and_the_loader() {
        let deps = dependencies(Path::new("/bin/ls")).unwrap();
        let names: Vec<String> = deps
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().any(|n| n == "libc.so.6"), "{deps:?}");
        assert!(
            deps[0].to_string_lossy().contains("ld-linux"),
            "interpreter must come first: {deps:?}"
        );
        assert!(
            deps.iter().all(|p| p.is_absolute() && p.exists()),
            "{deps:?}"
        );
    }

    #[test]
    fn static_probe_needs_nothing() {
        let dir = tempfile::TempDir::new().unwrap();
        let probe = dir.path().join("probe");
        fs::write(&probe, crate::layout::PROBE_BYTES).unwrap();
        assert_eq!(dependencies(&probe).unwrap(), Vec::<PathBuf>::new());
        assert!(is_static(&probe).unwrap());
    }

    #[test]
    fn dynamic_ls_is_not_static() {
        assert!(!is_static(Path::new("/bin/ls")).unwrap());
    }

    #[test]
    fn a_script_is_a_clear_error() {
        let dir = tempfile::TempDir::new().unwrap();
        let script = dir.path().join("script.sh");
        fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
        let error = dependencies(&script).unwrap_err();
        assert!(matches!(error, ElfError::NotElf { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("script.sh is not an ELF binary"),
            "{message}"
        );
    }

    #[test]
    fn wildcards_match_like_the_shell() {
        assert!(wildcard_match("*.conf", "libc.conf"));
        assert!(wildcard_match("*.conf", ".conf"));
        assert!(!wildcard_match("*.conf", "libc.conf.bak"));
        assert!(wildcard_match("a?c*", "abcdef"));
        assert!(!wildcard_match("a?c", "ac"));
    }

    #[test]
    fn ld_so_conf_includes_are_followed() {
        let dir = tempfile::TempDir::new().unwrap();
        fs::create_dir(dir.path().join("conf.d")).unwrap();
        fs::write(
            dir.path().join("ld.so.conf"),
            "# comment\n/first\ninclude conf.d/*.conf\n/last\n",
        )
        .unwrap();
        fs::write(dir.path().join("conf.d/b.conf"), "/from-b\n").unwrap();
        fs::write(dir.path().join("conf.d/a.conf"), "/from-a # trailing\n").unwrap();
        fs::write(dir.path().join("conf.d/ignored.txt"), "/nope\n").unwrap();
        let mut dirs = Vec::new();
        read_ld_so_conf(&dir.path().join("ld.so.conf"), 0, &mut dirs);
        let expected: Vec<PathBuf> = ["/first", "/from-a", "/from-b", "/last"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(dirs, expected);
    }

    #[test]
    fn origin_expands_to_the_objects_directory() {
        let elf_bytes = fs::read("/bin/ls").unwrap();
        let mut elf = Elf::parse(&elf_bytes).unwrap();
        elf.runpaths = vec!["$ORIGIN/../lib:${ORIGIN}/x"];
        elf.rpaths = vec!["/ignored-because-runpath-is-set"];
        let dirs = own_search_dirs(Path::new("/opt/app/bin/tool"), &elf);
        assert_eq!(
            dirs,
            vec![
                PathBuf::from("/opt/app/bin/../lib"),
                PathBuf::from("/opt/app/bin/x")
            ]
        );
    }
}
