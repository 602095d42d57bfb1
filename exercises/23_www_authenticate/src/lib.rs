//! # Exercise 23: the `WWW-Authenticate` header
//!
//! ```text
//! HTTP/1.1 401 Unauthorized
//! WWW-Authenticate: Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"
//! ```
//!
//! Write [`parse_challenge`]. The types and the error messages are written.
//! Run `cargo ex check 23_www_authenticate` until it passes.

// The parameter is unused until the `todo!()` is replaced.
#![allow(unused_variables)]

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

/// Read one `WWW-Authenticate` header (its value, without the name).
///
/// - Blanks around the header are ignored. The scheme is everything up to
///   the first space (or the whole header), `Basic` or `Bearer` in any
///   case; anything else is [`BadChallenge::Scheme`].
/// - The rest is parameters `key=value`, separated by commas, with blanks
///   allowed around the commas and around the `=` (and commas or blanks
///   alone, between parameters, are enough). Keys are case-insensitive:
///   keep them lowercase.
/// - A value is either bare, running to the next comma or blank, or a
///   quoted string: `"` to the next unescaped `"`, where `\` makes the
///   character after it part of the value whatever it is (a `"`, a `\`),
///   and commas and blanks are part of the value too. A parameter with no
///   `=`, an empty key, or a quote (or an escape) left open at the end is
///   [`BadChallenge::Parameters`].
/// - Other parameters (`error="insufficient_scope"`) are ignored, and when
///   a key comes twice the last one counts.
/// - `Basic` takes the realm, empty when there is none. `Bearer` needs a
///   realm ([`BadChallenge::NoRealm`] without one) and takes the service
///   and the scope when they are there.
pub fn parse_challenge(header: &str) -> Result<Challenge, BadChallenge> {
    // TODO: trim, split at the first ' ' and check the scheme in lowercase.
    // TODO: walk the rest with `chars().peekable()`: skip commas and
    //       blanks, read a key up to '=' or a blank, skip blanks, expect
    //       '=', skip blanks, then read a quoted or a bare value; put each
    //       pair in a map (a BTreeMap<String, String>).
    // TODO: build the Challenge from the map.
    todo!("read a WWW-Authenticate header")
}
