//! Checking a hostname before giving it to sethostname(2).

use thiserror::Error;

/// The kernel's limit (HOST_NAME_MAX).
const MAX_LEN: usize = 64;

/// Why a hostname was refused.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid hostname {name:?}: {reason}; pass one like --hostname web-1")]
pub struct HostnameError {
    /// The name as given.
    pub name: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Accept RFC 1123 host names: dot-separated labels of 1–63 letters, digits
/// and hyphens, not starting or ending with a hyphen, 64 bytes in all.
///
/// The kernel itself would take any bytes up to 64; we refuse what DNS and
/// most programs would choke on, so the error comes now and not from some
/// tool inside the container later.
pub fn validate_hostname(name: &str) -> Result<(), HostnameError> {
    let fail = |reason| {
        Err(HostnameError {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return fail("it is empty");
    }
    if name.len() > MAX_LEN {
        return fail("it is longer than 64 bytes");
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return fail("each part between dots must be 1 to 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return fail("it may only contain letters, digits, '-' and '.'");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return fail("a part may not start or end with '-'");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in ["cratebox", "web-1", "a.b.c", "x", "db01.example"] {
            assert_eq!(validate_hostname(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn refuses_names_dns_would_refuse() {
        let reasons: Vec<String> = [
            "",
            "under_score",
            "-lead",
            "trail-",
            "a..b",
            "sp ace",
            &"x".repeat(65),
        ]
        .iter()
        .map(|name| validate_hostname(name).unwrap_err().to_string())
        .collect();
        insta::assert_snapshot!(reasons.join("\n"));
    }
}
