//! Exercise 23, solved.

use std::collections::BTreeMap;
use std::iter::Peekable;
use std::str::Chars;

use thiserror::Error;

/// What a registry wants before it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// The user name and password, with every request.
    Basic {
        /// A name for people to read; empty when the header has none.
        realm: String,
    },
    /// A token from a token server, sent instead of the password.
    Bearer {
        /// The token server's URL.
        realm: String,
        /// The registry the token is for.
        service: Option<String>,
        /// What the refused request needed, e.g.
        /// `repository:library/alpine:pull`.
        scope: Option<String>,
    },
}

/// Why a header is of no use to this client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum BadChallenge {
    /// The first word is neither `Basic` nor `Bearer` (in any case).
    #[error("the scheme is neither Basic nor Bearer")]
    Scheme,
    /// A parameter has no `=` or no name, or a quoted value never ends.
    #[error("a parameter is not key=value or a quote is not closed")]
    Parameters,
    /// `Bearer` without a `realm`: there is no token server to ask.
    #[error("Bearer without a realm")]
    NoRealm,
}

/// One `WWW-Authenticate` header, read.
pub fn parse_challenge(header: &str) -> Result<Challenge, BadChallenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "basic" && scheme != "bearer" {
        return Err(BadChallenge::Scheme);
    }
    let mut params = parameters(rest).ok_or(BadChallenge::Parameters)?;
    let realm = params.remove("realm");
    if scheme == "basic" {
        return Ok(Challenge::Basic {
            realm: realm.unwrap_or_default(),
        });
    }
    Ok(Challenge::Bearer {
        realm: realm.ok_or(BadChallenge::NoRealm)?,
        service: params.remove("service"),
        scope: params.remove("scope"),
    })
}

/// `key=value, key="quoted, \"value\""` as a map with lowercase keys;
/// `None` when it is not that.
fn parameters(text: &str) -> Option<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|&c| c == ',' || c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Some(params);
        }
        let key: String =
            take_while(&mut chars, |c| c != '=' && !c.is_whitespace()).to_ascii_lowercase();
        skip_blanks(&mut chars);
        chars.next_if_eq(&'=')?;
        skip_blanks(&mut chars);
        let value = if chars.next_if_eq(&'"').is_some() {
            let mut value = String::new();
            loop {
                match chars.next()? {
                    '"' => break value,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
        } else {
            take_while(&mut chars, |c| c != ',' && !c.is_whitespace())
        };
        if key.is_empty() {
            return None;
        }
        params.insert(key, value);
    }
}

fn take_while(chars: &mut Peekable<Chars<'_>>, keep: impl Fn(char) -> bool) -> String {
    let mut taken = String::new();
    while let Some(c) = chars.next_if(|&c| keep(c)) {
        taken.push(c);
    }
    taken
}

fn skip_blanks(chars: &mut Peekable<Chars<'_>>) {
    while chars.next_if(|c| c.is_whitespace()).is_some() {}
}
