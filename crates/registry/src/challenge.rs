//! The `WWW-Authenticate` header: how a registry says what it wants.
//!
//! ```text
//! WWW-Authenticate: Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"
//! WWW-Authenticate: Basic realm="Registry Realm"
//! ```
//!
//! A scheme, then `key=value` pairs separated by commas, where a value is
//! a bare token or a quoted string in which `\` escapes the next character
//! (RFC 9110, section 11.6.1). Commas inside quotes belong to the value:
//! a scope naming two actions is `"repository:app:pull,push"`.

use std::collections::BTreeMap;

use thiserror::Error;

/// What the registry asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// Send the user name and password with every request.
    Basic {
        /// Shown to people; not used.
        realm: String,
    },
    /// Get a token from `realm` and send that instead.
    Bearer {
        /// The token server's URL.
        realm: String,
        /// Which registry the token is for.
        service: Option<String>,
        /// What the request needed, e.g. `repository:library/alpine:pull`.
        scope: Option<String>,
    },
}

/// A header this client cannot act on.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("cannot read the registry's WWW-Authenticate header {header:?}: {why}")]
pub struct BadChallenge {
    /// The header as received.
    pub header: String,
    /// What is wrong with it.
    pub why: &'static str,
}

// ANCHOR: parse_challenge
/// Read one challenge: `Basic` or `Bearer` with its parameters.
pub fn parse_challenge(header: &str) -> Result<Challenge, BadChallenge> {
    let bad = |why| BadChallenge {
        header: header.to_string(),
        why,
    };
    let header_trimmed = header.trim();
    let (scheme, rest) = header_trimmed
        .split_once(' ')
        .unwrap_or((header_trimmed, ""));
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "basic" && scheme != "bearer" {
        return Err(bad("the scheme is neither Basic nor Bearer"));
    }
    let params =
        parse_params(rest).ok_or(bad("a parameter is not key=value or a quote is not closed"))?;
    let realm = params.get("realm").cloned();
    match scheme.as_str() {
        "basic" => Ok(Challenge::Basic {
            realm: realm.unwrap_or_default(),
        }),
        "bearer" => Ok(Challenge::Bearer {
            realm: realm.ok_or(bad("Bearer without a realm"))?,
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        }),
        _ => Err(bad("the scheme is neither Basic nor Bearer")),
    }
}

// ANCHOR: parse_params
/// `key=value, key="quoted, value"` → a map with lowercase keys.
fn parse_params(text: &str) -> Option<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        if chars.peek().is_none() {
            return Some(params);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c.to_ascii_lowercase());
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        chars.next_if_eq(&'=')?;
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',' && !c.is_whitespace()) {
                value.push(c);
            }
        }
        if key.is_empty() {
            return None;
        }
        params.insert(key, value);
    }
}
// ANCHOR_END: parse_params
// ANCHOR_END: parse_challenge

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_registries_send() {
        let headers = [
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
            r#"Bearer realm="http://127.0.0.1:5001/token",service="test",scope="repository:a/b:pull,push""#,
            r#"bearer realm=https://r.example/token , service = reg"#,
            r#"Basic realm="Registry Realm""#,
            r#"Basic realm="a \"quoted\" realm""#,
            "Basic",
            r#"Bearer service="no realm""#,
            r#"Bearer realm="unclosed"#,
            r#"Negotiate abc"#,
            r#"Bearer =x"#,
        ];
        insta::assert_snapshot!(headers
            .iter()
            .map(|h| match parse_challenge(h) {
                Ok(c) => format!("{h}\n  → {c:?}"),
                Err(e) => format!("{h}\n  ✗ {}", e.why),
            })
            .collect::<Vec<_>>()
            .join("\n"));
    }
}
