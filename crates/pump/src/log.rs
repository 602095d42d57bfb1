//! docker's json-file log lines, written without allocating.
//!
//! ```text
//! {"log":"hello\n","stream":"stdout","time":"2026-11-30T01:02:03.123456789Z"}
//! ```
//!
//! A line is cut where the program wrote a newline; a line longer than
//! [`MAX_LINE`] is cut into pieces (only the last ends with the newline),
//! as docker does; what is left when the stream ends is written without
//! one. Both the pump and `cratebox run` in the foreground write with this
//! module, so a log reads the same whoever wrote it.

/// The longest piece one object holds, as in docker: 16 KiB.
pub const MAX_LINE: usize = 16 * 1024;

// ANCHOR: splitter
/// The start of a line that has not ended yet, for one stream.
#[derive(Debug, Clone)]
pub struct Splitter {
    pending: [u8; MAX_LINE],
    len: usize,
}

impl Default for Splitter {
    fn default() -> Splitter {
        Splitter {
            pending: [0; MAX_LINE],
            len: 0,
        }
    }
}

impl Splitter {
    /// Cut what a stream delivered into pieces, handing each complete
    /// line (or [`MAX_LINE`] bytes of one) to `piece`; the rest waits.
    pub fn feed(&mut self, mut data: &[u8], piece: &mut impl FnMut(&[u8])) {
        while !data.is_empty() {
            let take = data.len().min(MAX_LINE - self.len);
            let used = match data[..take].iter().position(|&b| b == b'\n') {
                Some(newline) => newline + 1,
                None => take,
            };
            self.pending[self.len..self.len + used].copy_from_slice(&data[..used]);
            self.len += used;
            data = &data[used..];
            if self.pending[self.len - 1] == b'\n' || self.len == MAX_LINE {
                piece(&self.pending[..self.len]);
                self.len = 0;
            }
        }
    }

    /// The stream ended: hand over what is left of its last line.
    pub fn finish(&mut self, piece: &mut impl FnMut(&[u8])) {
        if self.len > 0 {
            piece(&self.pending[..self.len]);
            self.len = 0;
        }
    }
}
// ANCHOR_END: splitter

// ANCHOR: encode
/// Write one object of the log, with its newline, for `piece` of the
/// stream called `stream`, read at `time`, to `out` in fragments. Bytes
/// that are not UTF-8 become U+FFFD, and the escapes are those of
/// serde_json, so the line is the one docker writes.
pub fn encode(stream: &str, piece: &[u8], time: &[u8], out: &mut impl FnMut(&[u8])) {
    out(b"{\"log\":\"");
    for chunk in piece.utf8_chunks() {
        escape(chunk.valid().as_bytes(), out);
        if !chunk.invalid().is_empty() {
            out("\u{FFFD}".as_bytes());
        }
    }
    out(b"\",\"stream\":\"");
    out(stream.as_bytes());
    out(b"\",\"time\":\"");
    out(time);
    out(b"\"}\n");
}

/// JSON's escapes for a string's bytes.
fn escape(text: &[u8], out: &mut impl FnMut(&[u8])) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (i, &byte) in text.iter().enumerate() {
        let short: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out(&text[start..i]);
        if short.is_empty() {
            out(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(byte >> 4) as usize],
                HEX[(byte & 0xf) as usize],
            ]);
        } else {
            out(short);
        }
        start = i + 1;
    }
    out(&text[start..]);
}
// ANCHOR_END: encode

/// Bytes in an RFC 3339 time with nanoseconds: `2026-11-30T01:02:03.123456789Z`.
pub const TIME_LEN: usize = 30;

// ANCHOR: rfc3339
/// `seconds` and `nanos` since 1970 (UTC) as RFC 3339 with nanoseconds.
/// The date comes from the day count by the "civil from days" method
/// (Howard Hinnant's): shift the year to start in March, so that the
/// leap day is the last day of a year, and count in 400-year eras.
pub fn rfc3339(seconds: i64, nanos: u32) -> [u8; TIME_LEN] {
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let mut text = *b"0000-00-00T00:00:00.000000000Z";
    digits(&mut text[0..4], year as u64);
    digits(&mut text[5..7], month as u64);
    digits(&mut text[8..10], day as u64);
    digits(&mut text[11..13], (of_day / 3600) as u64);
    digits(&mut text[14..16], (of_day / 60 % 60) as u64);
    digits(&mut text[17..19], (of_day % 60) as u64);
    digits(&mut text[20..29], u64::from(nanos));
    text
}
// ANCHOR_END: rfc3339

/// Fill `into` with the last decimal digits of `value`, zero-padded.
fn digits(into: &mut [u8], mut value: u64) {
    for place in into.iter_mut().rev() {
        *place = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn pieces(chunks: &[&[u8]]) -> Vec<String> {
        let mut splitter = Splitter::default();
        let mut out = Vec::new();
        let mut keep = |p: &[u8]| out.push(String::from_utf8_lossy(p).into_owned());
        for chunk in chunks {
            splitter.feed(chunk, &mut keep);
        }
        splitter.finish(&mut keep);
        out
    }

    #[test]
    fn lines_are_cut_at_newlines_and_at_16_kib() {
        assert_eq!(
            pieces(&[b"one\ntw", b"o\nthree"]),
            ["one\n", "two\n", "three"]
        );
        let long = std::vec![b'x'; MAX_LINE + 5];
        let mut with_newline = long.clone();
        with_newline.push(b'\n');
        let cut = pieces(&[&with_newline]);
        assert_eq!(cut.len(), 2);
        assert_eq!(cut[0].len(), MAX_LINE);
        assert_eq!(cut[1], "xxxxx\n");
        // A line of exactly 16 KiB: the newline comes as a piece of its own.
        let exact = [&[b'y'; MAX_LINE][..], b"\n"].concat();
        assert_eq!(pieces(&[&exact]).len(), 2);
    }

    #[test]
    fn lines_are_encoded_as_serde_json_would() {
        let mut line = Vec::new();
        encode(
            "stderr",
            b"tab\there \"q\" \\ \x01 caf\xc3\xa9 \xff\n",
            b"2026-11-30T01:02:03.000000004Z",
            &mut |b: &[u8]| line.extend_from_slice(b),
        );
        insta::assert_snapshot!(String::from_utf8(line).unwrap_or_default());
    }

    #[test]
    fn times_are_rfc3339_with_nanoseconds() {
        let text = |s, n| String::from_utf8(rfc3339(s, n).to_vec()).unwrap_or_default();
        assert_eq!(text(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(text(951_782_400, 5), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(
            text(1_795_999_323, 123_456_789),
            "2026-11-30T00:42:03.123456789Z"
        );
        assert_eq!(
            text(4_107_542_399, 999_999_999),
            "2100-02-28T23:59:59.999999999Z"
        );
    }
}
