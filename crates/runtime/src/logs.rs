//! Chapter 6: a container's output, kept as docker keeps it (json-file).
//!
//! The supervisor reads the container's stdout and stderr from two pipes
//! and appends one JSON object per line to `<id>-json.log`:
//!
//! ```text
//! {"log":"hello\n","stream":"stdout","time":"2026-11-30T01:02:03.123456789Z"}
//! ```
//!
//! A line is cut where the program wrote a newline; a line longer than
//! [`MAX_LINE`] is cut into pieces (the last piece ends with the newline,
//! the others do not, as docker does), and what is left when the stream
//! ends is written without one. `logs` reads the objects back.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::Path;

use cratebox_pump::log::Splitter;
use serde::{Deserialize, Serialize};

pub use cratebox_pump::log::MAX_LINE;

/// Which of the container's outputs a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// File descriptor 1.
    Stdout,
    /// File descriptor 2.
    Stderr,
}

impl Stream {
    /// The name in the log.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

// ANCHOR: entry
/// One object of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The text, with its newline when it ended one.
    pub log: String,
    /// `stdout` or `stderr`.
    pub stream: String,
    /// When the supervisor read it (RFC 3339, nanoseconds, UTC).
    pub time: String,
}

/// One line of the log file for `piece` of `stream`, read at `time`,
/// without its newline. Bytes that are not UTF-8 become U+FFFD, as in
/// docker's JSON. (The pump's `log` module writes it, for both.)
pub fn encode(stream: Stream, piece: &[u8], time: &str) -> String {
    let mut line = Vec::new();
    cratebox_pump::log::encode(stream.name(), piece, time.as_bytes(), &mut |bytes| {
        line.extend_from_slice(bytes)
    });
    line.pop();
    String::from_utf8_lossy(&line).into_owned()
}
// ANCHOR_END: entry

/// Cut what a stream delivered into log pieces: every complete line, and
/// pieces of [`MAX_LINE`] bytes of a line that goes on. What is left (the
/// start of a line) stays in `pending` for the next read.
pub fn split_pieces(pending: &mut Vec<u8>, data: &[u8]) -> Vec<Vec<u8>> {
    let mut splitter = Splitter::default();
    let mut pieces = Vec::new();
    // What is pending is shorter than a piece: it comes back as it was.
    splitter.feed(pending, &mut |piece| pieces.push(piece.to_vec()));
    splitter.feed(data, &mut |piece| pieces.push(piece.to_vec()));
    pending.clear();
    splitter.finish(&mut |rest| pending.extend_from_slice(rest));
    pieces
}

/// The writer the supervisor appends to.
#[derive(Debug)]
pub struct LogWriter {
    file: File,
    pending: [Vec<u8>; 2],
}

impl std::os::fd::AsFd for LogWriter {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl LogWriter {
    /// Open (or create) the log at `path` for appending.
    pub fn open(path: &Path) -> io::Result<LogWriter> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(LogWriter {
            file,
            pending: [Vec::new(), Vec::new()],
        })
    }

    /// Log what `stream` delivered.
    pub fn write(&mut self, stream: Stream, data: &[u8]) -> io::Result<()> {
        let pieces = split_pieces(&mut self.pending[stream as usize], data);
        self.append(stream, &pieces)
    }

    /// The stream ended: log what is left of its last line.
    pub fn finish(&mut self, stream: Stream) -> io::Result<()> {
        let rest = std::mem::take(&mut self.pending[stream as usize]);
        if rest.is_empty() {
            return Ok(());
        }
        self.append(stream, &[rest])
    }

    fn append(&mut self, stream: Stream, pieces: &[Vec<u8>]) -> io::Result<()> {
        if pieces.is_empty() {
            return Ok(());
        }
        let time = crate::containers::now();
        let mut text = String::new();
        for piece in pieces {
            text.push_str(&encode(stream, piece, &time));
            text.push('\n');
        }
        // One write per read: O_APPEND keeps each whole.
        self.file.write_all(text.as_bytes())
    }
}

/// Reads a log from a position on, one entry at a time; `logs -f` keeps
/// one open and asks again as the file grows.
#[derive(Debug)]
pub struct LogReader {
    reader: BufReader<File>,
    partial: String,
}

impl LogReader {
    /// Open the log at `path` (a container that never ran has none: an
    /// empty reader).
    pub fn open(path: &Path) -> io::Result<LogReader> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => File::open("/dev/null")?,
            Err(e) => return Err(e),
        };
        Ok(LogReader {
            reader: BufReader::new(file),
            partial: String::new(),
        })
    }

    /// The entries written since the last call. A line the supervisor is
    /// writing at this very moment is kept until it is whole.
    pub fn read_new(&mut self) -> io::Result<Vec<Entry>> {
        let mut entries = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                break;
            }
            self.partial.push_str(&line);
            if !self.partial.ends_with('\n') {
                break;
            }
            let whole = std::mem::take(&mut self.partial);
            // A damaged line is skipped, as docker skips it.
            if let Ok(entry) = serde_json::from_str::<Entry>(whole.trim_end()) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    /// Skip to the end: what is there now is not wanted.
    pub fn skip_to_end(&mut self) -> io::Result<()> {
        self.reader.seek(SeekFrom::End(0))?;
        Ok(())
    }
}

/// Every entry of a log.
pub fn read_all(path: &Path) -> io::Result<Vec<Entry>> {
    LogReader::open(path)?.read_new()
}

/// Remove a container's log (when the container is removed with it).
pub fn remove(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_objects_as_docker_writes_them() {
        insta::assert_snapshot!(
            encode(Stream::Stdout, b"hello \"world\"\n", "2026-11-30T01:02:03.000000001Z"),
            @r#"{"log":"hello \"world\"\n","stream":"stdout","time":"2026-11-30T01:02:03.000000001Z"}"#
        );
        insta::assert_snapshot!(
            encode(Stream::Stderr, b"caf\xc3\xa9 \xff\n", "2026-11-30T01:02:03Z"),
            @r#"{"log":"café �\n","stream":"stderr","time":"2026-11-30T01:02:03Z"}"#
        );
    }

    #[test]
    fn output_is_cut_at_newlines_and_at_16_kib() {
        let mut pending = Vec::new();
        assert!(split_pieces(&mut pending, b"par").is_empty());
        assert_eq!(
            split_pieces(&mut pending, b"tial\nwhole\nnext"),
            vec![b"partial\n".to_vec(), b"whole\n".to_vec()]
        );
        assert_eq!(pending, b"next");
        let long = vec![b'x'; MAX_LINE + 10];
        let pieces = split_pieces(&mut pending, &long);
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].len(), MAX_LINE);
        assert!(!pieces[0].ends_with(b"\n"));
        assert_eq!(pending.len(), 14);
    }

    #[test]
    fn a_log_reads_back_and_follows() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("c-json.log");
        let mut writer = LogWriter::open(&path).expect("a temp dir is writable");
        let mut reader = LogReader::open(&path).expect("a missing log reads empty");
        writer.write(Stream::Stdout, b"one\ntw").expect("writes");
        writer.write(Stream::Stderr, b"oops\n").expect("writes");
        let texts = |entries: Vec<Entry>| -> Vec<String> {
            entries
                .into_iter()
                .map(|e| format!("{} {:?}", e.stream, e.log))
                .collect()
        };
        assert_eq!(
            texts(reader.read_new().expect("reads")),
            ["stdout \"one\\n\"", "stderr \"oops\\n\""]
        );
        writer.write(Stream::Stdout, b"o\n").expect("writes");
        writer.write(Stream::Stdout, b"end").expect("writes");
        writer.finish(Stream::Stdout).expect("writes");
        assert_eq!(
            texts(reader.read_new().expect("reads")),
            ["stdout \"two\\n\"", "stdout \"end\""]
        );
        assert_eq!(read_all(&path).expect("reads").len(), 4);
    }
}
