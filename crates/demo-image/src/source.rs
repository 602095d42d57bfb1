//! Where the image's programs come from, and which source a caller asks for.
//!
//! Two sources can build the image (see [`crate::busybox`] and
//! [`crate::host`]), and both offer every command on [`crate::COMMANDS`].
//! They are not equal, though: a static busybox is one file that needs
//! nothing else, while the host's programs drag their libraries along and
//! differ from host to host. So busybox is preferred, and an image built
//! from the host's programs is *rebuilt* as soon as a static busybox
//! appears: installing `busybox-static` after a first run must not leave the
//! reader on the worse image forever.
//!
//! `CRATEBOX_DEMO_SOURCE` overrides the choice, to compare the two or to
//! test both: `busybox`, `host`, or `auto` (the same as leaving it unset).

use std::env;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::busybox;
use crate::manifest::SourceKind;

/// The environment variable that chooses the source.
pub const SOURCE_ENV: &str = "CRATEBOX_DEMO_SOURCE";

/// Where the image's programs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A statically linked busybox on the host, copied with its applet links.
    Busybox { binary: PathBuf },
    /// The host's own `/bin/sh` and commands, with their shared libraries.
    HostBinaries,
}

impl Source {
    /// Busybox when the host has a *static* one (checked by reading its ELF
    /// headers: no `PT_INTERP`), else the host's binaries.
    pub fn detect() -> Source {
        match busybox::find_static() {
            Some(binary) => Source::Busybox { binary },
            None => Source::HostBinaries,
        }
    }

    /// The data-only name of this source, as the manifest records it.
    pub fn kind(&self) -> SourceKind {
        match self {
            Source::Busybox { .. } => SourceKind::Busybox,
            Source::HostBinaries => SourceKind::HostBinaries,
        }
    }
}

/// The source a caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceChoice {
    /// The best the host has: busybox if it has a static one, else the
    /// host's programs.
    #[default]
    Auto,
    /// A static busybox, or an error.
    Busybox,
    /// The host's programs, even where a static busybox exists.
    Host,
}

/// The source asked for cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{SOURCE_ENV}={value:?} is not a demo image source: use busybox, host or auto")]
    Unknown { value: String },
    #[error(
        "{SOURCE_ENV}=busybox, but this host has no static busybox (looked for {}): \
         install busybox-static, or use {SOURCE_ENV}=host",
        busybox::HOST_CANDIDATES.join(", ")
    )]
    NoBusybox,
}

impl SourceChoice {
    /// The choice `$CRATEBOX_DEMO_SOURCE` makes; unset or empty is
    /// [`SourceChoice::Auto`].
    pub fn from_env() -> Result<SourceChoice, SourceError> {
        match env::var_os(SOURCE_ENV) {
            None => Ok(SourceChoice::Auto),
            Some(value) => value.to_string_lossy().parse(),
        }
    }

    /// The value of `CRATEBOX_DEMO_SOURCE` that makes this choice.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceChoice::Auto => "auto",
            SourceChoice::Busybox => "busybox",
            SourceChoice::Host => "host",
        }
    }

    /// The source to build from now.
    pub fn source(self) -> Result<Source, SourceError> {
        match self {
            SourceChoice::Auto => Ok(Source::detect()),
            SourceChoice::Busybox => busybox::find_static()
                .map(|binary| Source::Busybox { binary })
                .ok_or(SourceError::NoBusybox),
            SourceChoice::Host => Ok(Source::HostBinaries),
        }
    }

    // ANCHOR: keeps
    /// Whether an intact image built from `built` answers this choice, or
    /// must be rebuilt. `busybox_here` says whether the host has a static
    /// busybox now; it is asked only when the answer depends on it, because
    /// finding out reads the binary's headers.
    pub fn keeps(self, built: SourceKind, busybox_here: impl FnOnce() -> bool) -> bool {
        match self {
            SourceChoice::Busybox => built == SourceKind::Busybox,
            SourceChoice::Host => built == SourceKind::HostBinaries,
            // Never trade down: a busybox image stays even if the host's
            // busybox is gone, since the image has its own copy.
            SourceChoice::Auto => built == SourceKind::Busybox || !busybox_here(),
        }
    }
    // ANCHOR_END: keeps
}

impl FromStr for SourceChoice {
    type Err = SourceError;

    fn from_str(value: &str) -> Result<SourceChoice, SourceError> {
        match value {
            "" | "auto" => Ok(SourceChoice::Auto),
            "busybox" => Ok(SourceChoice::Busybox),
            "host" => Ok(SourceChoice::Host),
            other => Err(SourceError::Unknown {
                value: other.to_string(),
            }),
        }
    }
}

impl fmt::Display for SourceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worse_or_other_image_is_rebuilt() {
        let mut table = String::new();
        for choice in [
            SourceChoice::Auto,
            SourceChoice::Busybox,
            SourceChoice::Host,
        ] {
            for built in [SourceKind::Busybox, SourceKind::HostBinaries] {
                for busybox_here in [true, false] {
                    let keeps = choice.keeps(built, || busybox_here);
                    table += &format!(
                        "{:<7} built from {:<13} busybox on host: {:<5} -> {}\n",
                        choice.as_str(),
                        format!("{built:?}"),
                        busybox_here,
                        if keeps { "keep" } else { "rebuild" }
                    );
                }
            }
        }
        insta::assert_snapshot!(table, @r"
        auto    built from Busybox       busybox on host: true  -> keep
        auto    built from Busybox       busybox on host: false -> keep
        auto    built from HostBinaries  busybox on host: true  -> rebuild
        auto    built from HostBinaries  busybox on host: false -> keep
        busybox built from Busybox       busybox on host: true  -> keep
        busybox built from Busybox       busybox on host: false -> keep
        busybox built from HostBinaries  busybox on host: true  -> rebuild
        busybox built from HostBinaries  busybox on host: false -> rebuild
        host    built from Busybox       busybox on host: true  -> rebuild
        host    built from Busybox       busybox on host: false -> rebuild
        host    built from HostBinaries  busybox on host: true  -> keep
        host    built from HostBinaries  busybox on host: false -> keep
        ");
    }

    #[test]
    fn the_override_parses_or_names_what_it_accepts() {
        assert_eq!(
            "busybox".parse::<SourceChoice>().unwrap(),
            SourceChoice::Busybox
        );
        assert_eq!("host".parse::<SourceChoice>().unwrap(), SourceChoice::Host);
        assert_eq!("auto".parse::<SourceChoice>().unwrap(), SourceChoice::Auto);
        assert_eq!("".parse::<SourceChoice>().unwrap(), SourceChoice::Auto);
        for choice in [
            SourceChoice::Auto,
            SourceChoice::Busybox,
            SourceChoice::Host,
        ] {
            assert_eq!(choice.as_str().parse::<SourceChoice>().unwrap(), choice);
        }
        let error = "Busybox".parse::<SourceChoice>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "CRATEBOX_DEMO_SOURCE=\"Busybox\" is not a demo image source: use busybox, host or auto"
        );
    }
}
