//! The README's chapter 6 examples, as written and in order, on both demo
//! image sources.

use cratebox_testkit::readme::{run_readme_examples, Expect};

const BIN: &str = env!("CARGO_BIN_EXE_ch06-containers");

#[test]
fn readme_examples_work_on_both_demo_image_sources() {
    run_readme_examples(
        "ch06-containers",
        BIN,
        &[
            Expect::exits(
                "run -d --name ticker demo sh -c while true; do echo tick; sleep 1; done",
                0,
            ),
            Expect::exits("ps", 0).saying(&["ticker"]),
            Expect::exits("exec ticker ps", 0).saying(&["ch06-containers", " ps\n"]),
            Expect::exits("stop ticker", 0).saying(&["ticker\n"]),
            Expect::exits("logs ticker", 0).saying(&["tick\n"]),
            Expect::exits("rm ticker", 0),
        ],
    );
}
