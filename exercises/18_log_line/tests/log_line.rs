//! Exercise 18's tests: output read in awkward pieces, logged as cratebox
//! logs it.

#[cfg(not(feature = "solution"))]
use ex18_log_line as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/18_log_line.rs"]
mod subject;

use cratebox_runtime::logs::{self as real, Stream};
use subject::{encode, split_pieces, MAX_LINE};

const TIME: &str = "2026-11-30T01:02:03.000000001Z";

/// Feed `reads` one after the other; every piece taken out, as text.
fn pieces_of(reads: &[&[u8]]) -> (Vec<Vec<u8>>, Vec<u8>) {
    let mut pending = Vec::new();
    let mut all = Vec::new();
    for data in reads {
        all.extend(split_pieces(&mut pending, data));
    }
    (all, pending)
}

#[test]
fn lines_come_out_whole_whatever_the_reads() {
    let (pieces, pending) = pieces_of(&[b"hel", b"lo\nwor", b"ld\n\nlast"]);
    let shown: Vec<String> = pieces
        .iter()
        .map(|p| format!("{:?}", String::from_utf8_lossy(p)))
        .collect();
    insta::assert_snapshot!(shown.join("\n"), @r#"
    "hello\n"
    "world\n"
    "\n"
    "#);
    assert_eq!(pending, b"last");
    // The same as cratebox's.
    let mut real_pending = Vec::new();
    let mut real_pieces = Vec::new();
    for data in [&b"hel"[..], b"lo\nwor", b"ld\n\nlast"] {
        real_pieces.extend(real::split_pieces(&mut real_pending, data));
    }
    assert_eq!(pieces, real_pieces);
}

#[test]
fn an_endless_line_is_cut_every_16_kib() {
    let long = vec![b'x'; 2 * MAX_LINE + 5];
    let (pieces, pending) = pieces_of(&[&long, b"\n"]);
    let sizes: Vec<usize> = pieces.iter().map(Vec::len).collect();
    assert_eq!(sizes, [MAX_LINE, MAX_LINE, 6]);
    assert!(pending.is_empty());
    // A newline just past the limit does not save the line from a cut.
    let mut almost = vec![b'y'; MAX_LINE];
    almost.push(b'\n');
    let (pieces, _) = pieces_of(&[&almost]);
    assert_eq!(
        pieces.iter().map(Vec::len).collect::<Vec<_>>(),
        [MAX_LINE, 1]
    );
}

#[test]
fn each_piece_is_one_json_object_as_docker_writes_it() {
    let cases: [(&str, &[u8]); 4] = [
        ("stdout", b"hello\n"),
        ("stderr", b"say \"hi\"\tand\\go\n"),
        ("stdout", b"caf\xc3\xa9 \xff\n"),
        ("stdout", b"no newline"),
    ];
    let mut lines = Vec::new();
    for (stream, piece) in cases {
        let mine = encode(stream, piece, TIME);
        let kind = if stream == "stdout" {
            Stream::Stdout
        } else {
            Stream::Stderr
        };
        assert_eq!(mine, real::encode(kind, piece, TIME));
        lines.push(mine);
    }
    insta::assert_snapshot!(lines.join("\n"), @r#"
    {"log":"hello\n","stream":"stdout","time":"2026-11-30T01:02:03.000000001Z"}
    {"log":"say \"hi\"\tand\\go\n","stream":"stderr","time":"2026-11-30T01:02:03.000000001Z"}
    {"log":"café �\n","stream":"stdout","time":"2026-11-30T01:02:03.000000001Z"}
    {"log":"no newline","stream":"stdout","time":"2026-11-30T01:02:03.000000001Z"}
    "#);
}
