//! `EXPOSE` ports: `80`, `53/udp`, `8000-8010/tcp`.
//!
//! EXPOSE publishes nothing; it records, in the image config's
//! `ExposedPorts`, which ports the program listens on, for `docker run -P`
//! and for people. Its words may hold variables (`EXPOSE $PORT`), so the
//! parser checks only the words that are already literal; the builder calls
//! [`Port::parse`] again after expansion.

use std::fmt;

use thiserror::Error;

/// The transport a port is exposed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

/// A port or a range of ports, and its protocol (TCP when none is given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Port {
    pub first: u16,
    /// Equal to `first` for a single port.
    pub last: u16,
    pub protocol: Protocol,
}

/// Why a word is not a port.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid port {word:?}: {reason}")]
pub struct PortError {
    pub word: String,
    pub reason: &'static str,
}

impl Port {
    /// Parse `PORT[-LAST][/PROTOCOL]`; the protocol is case-insensitive.
    pub fn parse(word: &str) -> Result<Port, PortError> {
        let error = |reason| PortError {
            word: word.to_string(),
            reason,
        };
        let (range, protocol) = match word.split_once('/') {
            None => (word, Protocol::Tcp),
            Some((range, proto)) => {
                let protocol = match proto.to_ascii_lowercase().as_str() {
                    "tcp" => Protocol::Tcp,
                    "udp" => Protocol::Udp,
                    "sctp" => Protocol::Sctp,
                    _ => return Err(error("the protocol must be tcp, udp or sctp")),
                };
                (range, protocol)
            }
        };
        let number = |text: &str| match text.parse::<u16>() {
            Ok(0) | Err(_) => Err(error("a port is a number from 1 to 65535")),
            Ok(n) => Ok(n),
        };
        let (first, last) = match range.split_once('-') {
            None => {
                let n = number(range)?;
                (n, n)
            }
            Some((a, b)) => (number(a)?, number(b)?),
        };
        if first > last {
            return Err(error("a range must go from low to high"));
        }
        Ok(Port {
            first,
            last,
            protocol,
        })
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        })
    }
}

/// The form the image config uses as a key of `ExposedPorts`: `80/tcp`.
impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}/{}", self.first, self.protocol)
        } else {
            write!(f, "{}-{}/{}", self.first, self.last, self.protocol)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(word: &str) -> String {
        match Port::parse(word) {
            Ok(port) => port.to_string(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn tcp_is_the_default_protocol() {
        assert_eq!(show("8080"), "8080/tcp");
        assert_eq!(show("7000/UDP"), "7000/udp");
        assert_eq!(show("8000-8010/tcp"), "8000-8010/tcp");
    }

    #[test]
    fn bad_ports_say_why() {
        assert_eq!(
            show("0"),
            r#"invalid port "0": a port is a number from 1 to 65535"#
        );
        assert_eq!(
            show("80/http"),
            r#"invalid port "80/http": the protocol must be tcp, udp or sctp"#
        );
        assert_eq!(
            show("90-80"),
            r#"invalid port "90-80": a range must go from low to high"#
        );
    }
}
