//! What `attach` sends the pump through the attach socket, in frames:
//!
//! ```text
//! b'd' LEN(u16, big-endian) BYTES    keys, for the container's terminal
//! b'w' ROWS(u16) COLS(u16)           the client's window size
//! ```
//!
//! The reader takes the bytes as they come, in any cuts, and needs no
//! buffer for the keys: they go on as they arrive.

/// A frame of keys.
pub const DATA: u8 = b'd';
/// A frame with a window size.
pub const WINDOW: u8 = b'w';

/// What a client's bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// Keys (maybe part of a frame's).
    Keys(&'a [u8]),
    /// A window size: rows, columns.
    Window(u16, u16),
}

// ANCHOR: reader
/// Where a reader is in a client's stream of frames.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameReader {
    header: [u8; 5],
    have: usize,
    keys_left: usize,
}

/// Bytes that are no frame: the client is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadFrame;

impl FrameReader {
    /// Read `bytes`, the next ones the client sent, handing each event to
    /// `event`.
    // ANCHOR: reader_feed
    pub fn feed<'a>(
        &mut self,
        mut bytes: &'a [u8],
        event: &mut impl FnMut(Event<'a>),
    ) -> Result<(), BadFrame> {
        while !bytes.is_empty() {
            if self.keys_left > 0 {
                let (keys, rest) = bytes.split_at(self.keys_left.min(bytes.len()));
                self.keys_left -= keys.len();
                event(Event::Keys(keys));
                bytes = rest;
                continue;
            }
            self.header[self.have] = bytes[0];
            self.have += 1;
            bytes = &bytes[1..];
            let h = self.header;
            match (h[0], self.have) {
                (DATA, 3) => {
                    self.keys_left = usize::from(u16::from_be_bytes([h[1], h[2]]));
                    self.have = 0;
                }
                (WINDOW, 5) => {
                    event(Event::Window(
                        u16::from_be_bytes([h[1], h[2]]),
                        u16::from_be_bytes([h[3], h[4]]),
                    ));
                    self.have = 0;
                }
                (DATA | WINDOW, _) => {}
                _ => return Err(BadFrame),
            }
        }
        Ok(())
    }
    // ANCHOR_END: reader_feed
}
// ANCHOR_END: reader

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    fn events(cuts: &[&[u8]]) -> Vec<String> {
        let mut reader = FrameReader::default();
        let mut seen = Vec::new();
        for cut in cuts {
            let result = reader.feed(cut, &mut |e| seen.push(format!("{e:?}")));
            if result.is_err() {
                seen.push(String::from("bad"));
                break;
            }
        }
        seen
    }

    #[test]
    fn frames_are_read_in_any_cuts() {
        let whole: &[u8] = b"d\x00\x03abcw\x00\x18\x00\x50d\x00\x01q";
        let all = events(&[whole]);
        insta::assert_snapshot!(all.join("\n"));
        // One byte at a time: the same keys and window, in more events.
        let bytes: Vec<&[u8]> = whole.chunks(1).collect();
        let one_by_one = events(&bytes);
        assert!(one_by_one.contains(&String::from("Window(24, 80)")));
        assert_eq!(one_by_one.len(), 5);
        assert_eq!(events(&[b"x"]), ["bad"]);
    }
}
