//! The README's chapter 2 examples, as written, on both demo image sources:
//! the first command (the demo), then the "Try, for instance" lines. And the
//! override that picks the source, misspelt.

use cratebox_testkit::readme::{run_readme_examples, Expect};
use cratebox_testkit::{one_at_a_time, require_root, LeakCheck};

const BIN: &str = env!("CARGO_BIN_EXE_ch02-namespaces");

#[test]
fn readme_examples_work_on_both_demo_image_sources() {
    run_readme_examples(
        "ch02-namespaces",
        BIN,
        &[
            // The demo: every command it runs is in the image.
            Expect::exits("", 0).saying(&[
                "hostname: cratebox: our own",
                "ch02-namespaces\n",
                "network interfaces: lo \n",
            ]),
            // does not (escape)
            Expect::exits("/usr/local/bin/breakout", 1).saying(&["contained: "]),
            // PID 1 and 2, nothing else: a header and two lines.
            Expect::exits("--hostname web ps", 0)
                .saying(&["ch02-namespaces", " ps\n"])
                .stdout_lines(3),
            Expect::exits("--userns /usr/local/bin/probe", 0).saying(&["uid_map: 0 100000 65536"]),
        ],
    );
}

#[test]
fn an_unknown_demo_source_is_one_line_naming_the_accepted_ones() {
    if !require_root() {
        return;
    }
    // The other test's containers would be this one's leaks.
    let _turn = one_at_a_time();
    let leaks = LeakCheck::take();
    let state = tempfile::TempDir::new().expect("cannot create a temp dir");
    let out = std::process::Command::new(BIN)
        .env("CRATEBOX_ROOT", state.path())
        .env("CRATEBOX_DEMO_SOURCE", "busybox-static")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("cannot run ch02-namespaces");
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ch02-namespaces: cannot prepare the demo image: \
         CRATEBOX_DEMO_SOURCE=\"busybox-static\" is not a demo image source: \
         use busybox, host or auto\n"
    );
    assert_eq!(out.stdout, b"");
    // Nothing was built, nothing thrown away.
    let left: Vec<_> = std::fs::read_dir(state.path())
        .expect("the state root is there")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    leaks.assert_nothing_new(state.path());
}
