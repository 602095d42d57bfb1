//! Progress as docker prints it: one line per layer, its state changing in
//! place on a terminal (with a bar while bytes move), one line per change
//! when the output is a file or a pipe, nothing with `-q`.
//!
//! ```text
//! latest: Pulling from library/alpine
//! 8a49fdb3b6a5: Downloading [=================>         ]  2.31MB/3.62MB
//! 7d3f2b0e91c4: Pull complete
//! Digest: sha256:…
//! Status: Downloaded newer image for alpine:latest
//! ```

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where a pull or push reports what it is doing.
pub trait Progress: Send + Sync {
    /// The line of `id` (a short digest) now says `status`.
    fn status(&self, id: &str, status: &str);
    /// The line of `id` says `status` for good (`Pull complete`, `Pushed`).
    fn done(&self, id: &str, status: &str) {
        self.status(id, status);
    }
    /// `done` of `total` bytes of `id` moved (`verb`: Downloading, Pushing).
    fn bytes(&self, id: &str, verb: &str, done: u64, total: Option<u64>);
    /// A line of its own: `Digest: …`, `Status: …`.
    fn message(&self, text: &str);
}

/// Which output the progress goes to: stdout for `pull` and `push`,
/// stderr when `run` pulls (its stdout is the container's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// The right kind for `output`: bars on a terminal, lines otherwise,
/// nothing when `quiet`.
pub fn for_output(output: Output, quiet: bool) -> Box<dyn Progress> {
    let terminal = match output {
        Output::Stdout => std::io::stdout().is_terminal(),
        Output::Stderr => std::io::stderr().is_terminal(),
    };
    if quiet {
        Box::new(Quiet)
    } else if terminal {
        Box::new(Bars::new(output))
    } else {
        Box::new(Lines(output))
    }
}

/// `-q`: nothing at all.
#[derive(Debug)]
pub struct Quiet;

impl Progress for Quiet {
    fn status(&self, _: &str, _: &str) {}
    fn bytes(&self, _: &str, _: &str, _: u64, _: Option<u64>) {}
    fn message(&self, _: &str) {}
}

/// Not a terminal: each change of state on a line of its own, no bytes.
#[derive(Debug)]
pub struct Lines(pub Output);

impl Progress for Lines {
    fn status(&self, id: &str, status: &str) {
        println_flushed(self.0, &format!("{id}: {status}"));
    }
    fn bytes(&self, _: &str, _: &str, _: u64, _: Option<u64>) {}
    fn message(&self, text: &str) {
        println_flushed(self.0, text);
    }
}

fn println_flushed(output: Output, line: &str) {
    let _ = match output {
        Output::Stdout => writeln!(std::io::stdout().lock(), "{line}"),
        Output::Stderr => writeln!(std::io::stderr().lock(), "{line}"),
    };
    let _ = std::io::stdout().flush();
}

/// A terminal: a line per layer, redrawn in place.
#[derive(Debug)]
pub struct Bars {
    output: Output,
    multi: MultiProgress,
    lines: Mutex<HashMap<String, ProgressBar>>,
    /// The bars are all done and drawn for the last time.
    closed: std::sync::atomic::AtomicBool,
}

impl Bars {
    fn new(output: Output) -> Bars {
        let target = match output {
            Output::Stdout => ProgressDrawTarget::stdout(),
            Output::Stderr => ProgressDrawTarget::stderr(),
        };
        Bars {
            output,
            multi: MultiProgress::with_draw_target(target),
            lines: Mutex::new(HashMap::new()),
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn is_empty(&self) -> bool {
        self.lines.lock().map(|l| l.is_empty()).unwrap_or(true)
    }

    /// The line of `id`, made on first use, in the order first used.
    fn line(&self, id: &str) -> ProgressBar {
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        lines
            .entry(id.to_string())
            .or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new(0));
                bar.set_style(plain_style());
                bar.set_prefix(id.to_string());
                bar
            })
            .clone()
    }
}

fn plain_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix}: {msg}").unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix}: {msg} [{bar:30}] {bytes:>10}/{total_bytes}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl Progress for Bars {
    fn status(&self, id: &str, status: &str) {
        let bar = self.line(id);
        bar.set_style(plain_style());
        bar.set_message(status.to_string());
        bar.tick();
    }

    fn done(&self, id: &str, status: &str) {
        let bar = self.line(id);
        bar.set_style(plain_style());
        bar.finish_with_message(status.to_string());
    }

    fn bytes(&self, id: &str, verb: &str, done: u64, total: Option<u64>) {
        let bar = self.line(id);
        if bar.message() != verb {
            bar.set_style(bar_style());
            bar.set_message(verb.to_string());
        }
        if let Some(total) = total {
            bar.set_length(total);
        }
        bar.set_position(done);
    }

    fn message(&self, text: &str) {
        // While a bar moves, a line goes above the bars (which redraw
        // below it); once they are all done, below them, as docker's
        // `Digest:` and `Status:` are.
        let settled = self
            .lines
            .lock()
            .map(|lines| lines.values().all(ProgressBar::is_finished))
            .unwrap_or(true);
        if settled {
            if !self.is_empty() && !self.closed.swap(true, std::sync::atomic::Ordering::Relaxed) {
                // indicatif leaves the cursor on the last bar's line, ready
                // to redraw: end that line, and draw no more.
                self.multi.set_draw_target(ProgressDrawTarget::hidden());
                println_flushed(self.output, "");
            }
            println_flushed(self.output, text);
        } else {
            let _ = self.multi.println(text);
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        for bar in self
            .lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            bar.abandon();
        }
    }
}
