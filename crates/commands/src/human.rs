//! Times as docker prints them for people: `Up 3 seconds`, `Exited (0) 2
//! minutes ago`, `About an hour ago`.

use std::time::{Duration, SystemTime};

use cratebox_runtime::containers::{Record, Status};

// ANCHOR: human_duration
/// A duration in words, rounded as docker rounds it (its Go library's
/// `HumanDuration`): seconds below a minute, minutes below an hour, hours
/// below two days, then days, weeks, months, years.
pub fn human_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let minutes = seconds / 60;
    // Hours are rounded to the nearest, not cut.
    let hours = (duration.as_secs_f64() / 3600.0).round() as u64;
    let plural = |n: u64, unit: &str| format!("{n} {unit}s");
    match () {
        _ if seconds < 1 => "Less than a second".to_string(),
        _ if seconds == 1 => "1 second".to_string(),
        _ if seconds < 60 => plural(seconds, "second"),
        _ if minutes == 1 => "About a minute".to_string(),
        _ if minutes < 60 => plural(minutes, "minute"),
        _ if hours == 1 => "About an hour".to_string(),
        _ if hours < 48 => plural(hours, "hour"),
        _ if hours < 24 * 7 * 2 => plural(hours / 24, "day"),
        _ if hours < 24 * 30 * 2 => plural(hours / 24 / 7, "week"),
        _ if hours < 24 * 365 * 2 => plural(hours / 24 / 30, "month"),
        _ => plural(hours / 24 / 365, "year"),
    }
}
// ANCHOR_END: human_duration

/// How long ago an RFC 3339 time was, as `2 minutes ago`; the text as
/// given when it is not a time.
pub fn ago(time: &str, now: SystemTime) -> String {
    match since(time, now) {
        Some(elapsed) => format!("{} ago", human_duration(elapsed)),
        None => time.to_string(),
    }
}

/// Time from `time` (RFC 3339) to `now`, zero if `time` is later.
pub fn since(time: &str, now: SystemTime) -> Option<Duration> {
    let then = humantime::parse_rfc3339_weak(time.trim_end_matches('Z'))
        .or_else(|_| humantime::parse_rfc3339(time))
        .ok()?;
    Some(now.duration_since(then).unwrap_or_default())
}

// ANCHOR: status_text
/// A container's STATUS column: `Created`, `Up 3 seconds`, `Exited (0) 2
/// minutes ago`; `Exited (unknown)` when its supervisor vanished without
/// writing how it ended.
pub fn status_text(record: &Record, now: SystemTime) -> String {
    let state = &record.state;
    match record.live_status() {
        Status::Created => "Created".to_string(),
        Status::Running { .. } => match state.started_at.as_deref() {
            _ if state.init.is_none() && state.started_at.is_some() => {
                format!("Restarting ({})", exit_code_text(record))
            }
            Some(started) => {
                let up = match since(started, now) {
                    Some(up) => format!("Up {}", human_duration(up)),
                    None => "Up".to_string(),
                };
                match state.health.as_ref().map(|h| h.status.as_str()) {
                    Some("starting") => format!("{up} (health: starting)"),
                    Some(status) => format!("{up} ({status})"),
                    None => up,
                }
            }
            None => "Up".to_string(),
        },
        Status::Exited { code } => {
            let code = match code {
                code if code < 0 => "unknown".to_string(),
                code => code.to_string(),
            };
            match state.finished_at.as_deref() {
                Some(finished) => format!("Exited ({code}) {}", ago(finished, now)),
                None => format!("Exited ({code})"),
            }
        }
    }
}
// ANCHOR_END: status_text

/// The code of a restarting container's last run.
fn exit_code_text(record: &Record) -> String {
    match record.status {
        Status::Exited { code } => code.to_string(),
        _ => "?".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_docker_prints_them() {
        let lines: Vec<String> = [
            0,
            1,
            3,
            59,
            60,
            119,
            120,
            3599,
            3600,
            5399,
            5400,
            86_400,
            172_799,
            172_800,
            1_209_599,
            1_209_600,
            5_184_000,
            63_072_000,
            100_000_000,
        ]
        .iter()
        .map(|&s| format!("{s:>9} s: {}", human_duration(Duration::from_secs(s))))
        .collect();
        insta::assert_snapshot!(lines.join("\n"), @r"
                0 s: Less than a second
                1 s: 1 second
                3 s: 3 seconds
               59 s: 59 seconds
               60 s: About a minute
              119 s: About a minute
              120 s: 2 minutes
             3599 s: 59 minutes
             3600 s: About an hour
             5399 s: About an hour
             5400 s: 2 hours
            86400 s: 24 hours
           172799 s: 2 days
           172800 s: 2 days
          1209599 s: 2 weeks
          1209600 s: 2 weeks
          5184000 s: 2 months
         63072000 s: 2 years
        100000000 s: 3 years
        ");
    }

    #[test]
    fn times_ago_from_records() {
        let now = humantime::parse_rfc3339("2026-11-30T12:00:00Z").expect("a time");
        assert_eq!(
            ago("2026-11-30T11:58:00.000000001Z", now),
            "About a minute ago"
        );
        assert_eq!(ago("2026-11-30T11:58:00Z", now), "2 minutes ago");
        assert_eq!(ago("2026-11-30T11:59:57Z", now), "3 seconds ago");
        assert_eq!(ago("2026-11-30T12:00:05Z", now), "Less than a second ago");
        assert_eq!(ago("not a time", now), "not a time");
    }
}
