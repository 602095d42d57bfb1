//! # Exercise 18: a container's output as docker's json-file log
//!
//! ```text
//! read "hel"          -> nothing yet (pending: "hel")
//! read "lo\nwor"      -> {"log":"hello\n","stream":"stdout","time":"..."}  (pending: "wor")
//! ```
//!
//! Write [`split_pieces`] and [`encode`]. Run `cargo ex check
//! 18_log_line` until it passes.

// The parameters are unused until the `todo!()`s are replaced.
#![allow(unused_variables)]

/// The longest piece one log line holds: 16 KiB, as in docker.
pub const MAX_LINE: usize = 16 * 1024;

/// Add `data` to `pending` and take out the pieces to log: each complete
/// line (up to and with its `\n`), or `MAX_LINE` bytes of a line with no
/// `\n` in its first `MAX_LINE` bytes. What is left stays in `pending`.
// The stub does not grow `pending` yet, which makes clippy suggest a slice.
#[allow(clippy::ptr_arg)]
pub fn split_pieces(pending: &mut Vec<u8>, data: &[u8]) -> Vec<Vec<u8>> {
    // TODO: extend pending, then loop: find the first b'\n'; cut after it
    //       if it is within MAX_LINE, else cut MAX_LINE bytes if there are
    //       that many, else stop. Vec::drain(..n) takes the front out.
    todo!("cut output into log pieces")
}

/// One line of the log for `piece` of `stream` ("stdout" or "stderr"),
/// read at `time`: `{"log":...,"stream":...,"time":...}`, no newline
/// after it.
pub fn encode(stream: &str, piece: &[u8], time: &str) -> String {
    // TODO: String::from_utf8_lossy for the text; serde_json::json! keeps
    //       keys in alphabetical order, which happens to be the right one
    //       here; serde_json::to_string makes the line.
    todo!("one json-file log line")
}
