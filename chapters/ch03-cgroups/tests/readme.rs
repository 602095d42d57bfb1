//! The README's chapter 3 examples, as written, on both demo image sources.

use cratebox_testkit::readme::{run_readme_examples, Expect};

const BIN: &str = env!("CARGO_BIN_EXE_ch03-cgroups");

#[test]
fn readme_examples_work_on_both_demo_image_sources() {
    run_readme_examples(
        "ch03-cgroups",
        BIN,
        &[
            Expect::exits("-m 32m /usr/local/bin/memhog", 137)
                .saying(&["killed: out of memory (limit 32MiB)"]),
            // timeout stops the loop after 2 s: coreutils' timeout then
            // exits 124; busybox's, sharing the loop's process group, is
            // killed by the same SIGTERM (128 + 15).
            Expect::exits(
                "--cpus 0.5 --stats timeout 2 sh -c while :; do :; done",
                124,
            )
            .or_exits(143)
            .saying(&["ch03-cgroups: stats: "]),
        ],
    );
}
