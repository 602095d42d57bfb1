//! Exercise 01's tests: the flags for each name, the error for a wrong one,
//! and agreement with the flags cratebox itself asks clone(2) for.

#[cfg(not(feature = "solution"))]
use ex01_clone_flags as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/01_clone_flags.rs"]
mod subject;

use cratebox_sandbox::namespaces::{clone_flags, Namespaces, UserNamespace};
use subject::{clone_flags_for, NAMES};

/// One line per input: the names, then the flags' Debug form or the error.
fn table(inputs: &[&[&str]]) -> String {
    inputs
        .iter()
        .map(|names| match clone_flags_for(names) {
            Ok(flags) => format!("{names:?} -> {flags:?}\n"),
            Err(error) => format!("{names:?} -> error: {error}\n"),
        })
        .collect()
}

#[test]
fn each_name_sets_its_own_flag() {
    let singles: Vec<[&str; 1]> = NAMES.iter().chain(&["mount"]).map(|name| [*name]).collect();
    let inputs: Vec<&[&str]> = singles.iter().map(|one| one.as_slice()).collect();
    insta::assert_snapshot!(table(&inputs));
}

#[test]
fn names_combine_and_repeats_count_once() {
    insta::assert_snapshot!(table(&[
        &[],
        &["uts", "net"],
        &["net", "uts"],
        &["mnt", "mount", "mnt"],
        &["uts", "pid", "mnt", "ipc", "net", "cgroup"],
    ]));
}

#[test]
fn unknown_names_are_refused_by_name() {
    insta::assert_snapshot!(table(&[
        &["time"],
        &["UTS"],
        &["uts", "network", "bogus"],
        &[""]
    ]));
}

#[test]
fn agrees_with_the_flags_cratebox_uses() {
    let chapter_two = ["uts", "pid", "mnt", "ipc", "net", "cgroup"];
    assert_eq!(
        clone_flags_for(&chapter_two),
        Ok(clone_flags(&Namespaces::all(UserNamespace::Shared))),
        "chapter 2 without --userns"
    );
    let with_user: Vec<&str> = chapter_two.iter().copied().chain(["user"]).collect();
    assert_eq!(
        clone_flags_for(&with_user),
        Ok(clone_flags(&Namespaces::all(UserNamespace::Own))),
        "chapter 2 with --userns"
    );
}
