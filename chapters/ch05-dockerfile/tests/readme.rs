//! The README's chapter 5 examples, as written and in order, on both demo
//! image sources.

use cratebox_testkit::readme::{run_readme_examples, Expect};

const BIN: &str = env!("CARGO_BIN_EXE_ch05-dockerfile");

const SEED: &str = "build -t notes-server chapters/ch05-dockerfile/tests/fixtures/notes-server";

#[test]
fn readme_examples_work_on_both_demo_image_sources() {
    run_readme_examples(
        "ch05-dockerfile",
        BIN,
        &[
            Expect::exits(SEED, 0).saying(&["Successfully tagged notes-server:latest"]),
            Expect::exits("run --rm notes-server", 0).saying(&["server: hello from the recipe"]),
            Expect::exits(SEED, 0).saying(&["---> Using cache"]),
            Expect::exits("history notes-server", 0).saying(&["CMD [\"start.sh\"]"]),
        ],
    );
}
