//! The pump's command line, read straight from the array the kernel put on
//! the stack: every option is a number, except the two commands at the end.
//!
//! ```text
//! cratebox-pump --init PID --log FD (--stdout FD --stderr FD [--stdin FD] | --terminal FD) [--keys]
//!               [--attach FD] [--health NANOS --check PROGRAM ARG... --]
//!               --then PROGRAM ARG...
//! ```

/// The most words the `--check` and `--then` commands may have.
pub const MAX_WORDS: usize = 24;

/// A NUL-terminated string from the kernel.
pub type CStr = *const u8;

/// A command to exec: its words, then a null pointer, as execve wants.
#[derive(Debug, Clone, Copy)]
pub struct Command {
    /// The words; `words[len]` is null.
    pub words: [CStr; MAX_WORDS + 3],
    /// How many there are.
    pub len: usize,
}

impl Default for Command {
    fn default() -> Command {
        Command {
            words: [core::ptr::null(); MAX_WORDS + 3],
            len: 0,
        }
    }
}

impl Command {
    fn push(&mut self, word: CStr) -> Result<(), Wrong> {
        if self.len == MAX_WORDS + 2 {
            return Err(Wrong::TooLong);
        }
        self.words[self.len] = word;
        self.len += 1;
        Ok(())
    }
}

/// What the pump was told to do.
#[derive(Debug, Clone, Copy, Default)]
pub struct Args {
    /// The container's init, our child.
    pub init: i32,
    /// The log, open for appending.
    pub log: i32,
    /// The read ends of the container's stdout and stderr (-1: none).
    pub stdout: i32,
    /// See `stdout`.
    pub stderr: i32,
    /// The master end of the container's terminal (-1: none).
    pub terminal: i32,
    /// The write end of the container's stdin, without a terminal (-1: none).
    pub stdin: i32,
    /// Whether keys from `attach` may reach the container (`-i`).
    pub keys: bool,
    /// The listening attach socket (-1: none).
    pub attach: i32,
    /// Nanoseconds between health checks (0: none).
    pub health: u64,
    /// What runs one health check.
    pub check: Command,
    /// What to exec once the container has ended.
    pub then: Command,
}

/// Why a command line was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrong {
    /// An option the pump does not know.
    Unknown,
    /// A number that is not one.
    NotANumber,
    /// An option without its value, or no `--then`.
    Missing,
    /// More words than [`MAX_WORDS`].
    TooLong,
}

/// The bytes of a C string, without its NUL.
///
/// # Safety
/// `text` must point to a NUL-terminated string that outlives the slice.
pub unsafe fn bytes<'a>(text: CStr) -> &'a [u8] {
    let mut len = 0;
    // SAFETY: the caller vouches for the NUL within the string.
    unsafe {
        while *text.add(len) != 0 {
            len += 1;
        }
        core::slice::from_raw_parts(text, len)
    }
}

/// A decimal number.
pub fn number(text: &[u8]) -> Result<u64, Wrong> {
    if text.is_empty() || text.len() > 19 {
        return Err(Wrong::NotANumber);
    }
    text.iter().try_fold(0u64, |n, &b| match b {
        b'0'..=b'9' => Ok(n * 10 + u64::from(b - b'0')),
        _ => Err(Wrong::NotANumber),
    })
}

/// Read `argv` (without the program's own name).
///
/// # Safety
/// Every pointer must be a NUL-terminated string that lives as long as
/// the program (the kernel's argument strings do).
pub unsafe fn parse(argv: &[CStr]) -> Result<Args, Wrong> {
    let mut args = Args {
        stdout: -1,
        stderr: -1,
        terminal: -1,
        stdin: -1,
        attach: -1,
        ..Args::default()
    };
    let mut i = 0;
    while i < argv.len() {
        // SAFETY: as the caller vouches.
        let option = unsafe { bytes(argv[i]) };
        i += 1;
        let fd = |n: u64| i32::try_from(n).map_err(|_| Wrong::NotANumber);
        let take = |i: &mut usize| -> Result<u64, Wrong> {
            let word = *argv.get(*i).ok_or(Wrong::Missing)?;
            *i += 1;
            // SAFETY: as the caller vouches.
            number(unsafe { bytes(word) })
        };
        match option {
            b"--init" => args.init = fd(take(&mut i)?)?,
            b"--log" => args.log = fd(take(&mut i)?)?,
            b"--stdout" => args.stdout = fd(take(&mut i)?)?,
            b"--stderr" => args.stderr = fd(take(&mut i)?)?,
            b"--terminal" => args.terminal = fd(take(&mut i)?)?,
            b"--stdin" => args.stdin = fd(take(&mut i)?)?,
            b"--attach" => args.attach = fd(take(&mut i)?)?,
            b"--health" => args.health = take(&mut i)?,
            b"--keys" => args.keys = true,
            b"--check" => {
                while i < argv.len() {
                    let word = argv[i];
                    i += 1;
                    // SAFETY: as the caller vouches.
                    if unsafe { bytes(word) } == b"--" {
                        break;
                    }
                    args.check.push(word)?;
                }
            }
            b"--then" => {
                for &word in &argv[i..] {
                    args.then.push(word)?;
                }
                i = argv.len();
            }
            _ => return Err(Wrong::Unknown),
        }
    }
    if args.then.len == 0 || args.init <= 0 || (args.health > 0 && args.check.len == 0) {
        return Err(Wrong::Missing);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn parse_words(words: &[&[u8]]) -> Result<Args, Wrong> {
        let owned: Vec<Vec<u8>> = words.iter().map(|w| [*w, b"\0"].concat()).collect();
        let pointers: Vec<CStr> = owned.iter().map(|w| w.as_ptr()).collect();
        // SAFETY: every word is NUL-terminated and outlives the call.
        unsafe { parse(&pointers) }
    }

    #[test]
    fn a_full_command_line_is_read() {
        let args = parse_words(&[
            b"--init",
            b"42",
            b"--log",
            b"5",
            b"--terminal",
            b"6",
            b"--keys",
            b"--attach",
            b"7",
            b"--health",
            b"1000",
            b"--check",
            b"/bin/cratebox",
            b"__health",
            b"abc",
            b"--",
            b"--then",
            b"/bin/cratebox",
            b"__supervise",
            b"abc",
        ]);
        let Ok(args) = args else {
            panic!("refused: {args:?}");
        };
        assert_eq!(
            (args.init, args.log, args.terminal, args.attach),
            (42, 5, 6, 7)
        );
        assert_eq!((args.stdout, args.keys, args.health), (-1, true, 1000));
        assert_eq!((args.check.len, args.then.len), (3, 3));
        assert!(args.then.words[3].is_null());
    }

    #[test]
    fn pipes_without_a_terminal() {
        let args = parse_words(&[
            b"--init",
            b"9",
            b"--log",
            b"3",
            b"--stdout",
            b"4",
            b"--stderr",
            b"5",
            b"--stdin",
            b"6",
            b"--keys",
            b"--then",
            b"/bin/true",
        ]);
        let Ok(args) = args else {
            panic!("refused: {args:?}");
        };
        assert_eq!(
            (args.stdout, args.stderr, args.stdin, args.terminal),
            (4, 5, 6, -1)
        );
        assert_eq!((args.attach, args.health, args.check.len), (-1, 0, 0));
    }

    #[test]
    fn bad_command_lines_are_refused() {
        assert_eq!(
            parse_words(&[b"--init", b"x"]).err(),
            Some(Wrong::NotANumber)
        );
        assert_eq!(parse_words(&[b"--init", b"4"]).err(), Some(Wrong::Missing));
        assert_eq!(parse_words(&[b"--what"]).err(), Some(Wrong::Unknown));
        assert_eq!(
            parse_words(&[b"--init", b"4", b"--health", b"9", b"--then", b"x"]).err(),
            Some(Wrong::Missing)
        );
    }
}
