//! The README's chapter 4 examples, as written and in order, on both demo
//! image sources.

use cratebox_testkit::readme::{run_readme_examples, Expect};

const BIN: &str = env!("CARGO_BIN_EXE_ch04-layers");

#[test]
fn readme_examples_work_on_both_demo_image_sources() {
    run_readme_examples(
        "ch04-layers",
        BIN,
        &[
            Expect::exits("run --name web demo sh -c echo hello > /index.html", 0),
            Expect::exits("diff web", 0).saying(&["A /index.html\n"]),
            Expect::exits("commit web site:v1", 0),
            Expect::exits("run --rm site:v1 cat /index.html", 0).saying(&["hello\n"]),
            Expect::exits("save -o site.tar site:v1", 0).making("site.tar"),
        ],
    );
}
