//! The README's chapter 2 examples, as written, on both demo image sources:
//! the first command (the demo), then the "Try, for instance" lines.

use cratebox_testkit::readme::{run_readme_examples, Expect};

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
