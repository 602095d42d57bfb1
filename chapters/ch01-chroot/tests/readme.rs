//! The README's chapter 1 example, as written, on both demo image sources.

use cratebox_testkit::readme::{run_readme_examples, Expect};

const BIN: &str = env!("CARGO_BIN_EXE_ch01-chroot");

#[test]
fn readme_examples_work_on_both_demo_image_sources() {
    run_readme_examples(
        "ch01-chroot",
        BIN,
        &[
            // escapes the chroot
            Expect::exits("/usr/local/bin/breakout", 0)
                .saying(&["escaped: / is now the host's root"]),
        ],
    );
}
