//! Reference solution for exercise 18: docker's json-file log lines.

/// The longest piece one log line holds: 16 KiB, as in docker.
pub const MAX_LINE: usize = 16 * 1024;

/// Add `data` to `pending` and take out the pieces to log.
pub fn split_pieces(pending: &mut Vec<u8>, data: &[u8]) -> Vec<Vec<u8>> {
    pending.extend_from_slice(data);
    let mut pieces = Vec::new();
    loop {
        let cut = match pending.iter().position(|&b| b == b'\n') {
            Some(newline) if newline < MAX_LINE => newline + 1,
            _ if pending.len() >= MAX_LINE => MAX_LINE,
            _ => break,
        };
        pieces.push(pending.drain(..cut).collect());
    }
    pieces
}

/// One line of the log for `piece` of `stream`, read at `time`.
pub fn encode(stream: &str, piece: &[u8], time: &str) -> String {
    let line = serde_json::json!({
        "log": String::from_utf8_lossy(piece),
        "stream": stream,
        "time": time,
    });
    line.to_string()
}
