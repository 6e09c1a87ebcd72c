//! The command line: what to generate, and where.
//!
//! Hand-rolled rather than clap: two subcommands and one option do not pay for a
//! dependency tree, and the usage text below is the whole interface.

use std::ffi::OsString;
use std::path::PathBuf;

use thiserror::Error;

/// The whole interface, printed by `--help` and after a usage error.
pub const USAGE: &str = "\
usage:
  switchboard new channel NAME PATTERN [--app DIR]
  switchboard new socket NAME EVENT [--app DIR]
  switchboard --help | --version

new channel  writes a channel listener NAME on PATTERN (as in `Receipt \"receipt.{id}\"`):
             src/listeners/<name>.rs with an is_authorised hook and one event,
             `pub mod <name>;` in the listeners module, tests/<name>.rs using
             switchboard::testing, and client/<name>.js for the browser client
new socket   the same for a socket listener handling EVENT (sent without a channel)

NAME         the listener's type name, in UpperCamelCase (Receipt, ReceiptLine)
PATTERN      a channel pattern: literal text with * or {name} wildcards
--app DIR    the app's package directory, holding its Cargo.toml (default: .)

Nothing is overwritten: when any file to be written exists, nothing is written.";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `--help`, `-h` or `help`: print [`USAGE`].
    Help,
    /// `--version` or `-V`.
    Version,
    /// `new channel NAME PATTERN`.
    NewChannel {
        /// The listener's type name, as typed (checked later).
        name: String,
        /// The channel pattern, as typed (checked later).
        pattern: String,
        /// The app's package directory.
        app: PathBuf,
    },
    /// `new socket NAME EVENT`.
    NewSocket {
        /// The listener's type name, as typed (checked later).
        name: String,
        /// The event it handles, as typed (checked later).
        event: String,
        /// The app's package directory.
        app: PathBuf,
    },
}

/// Why the command line cannot be understood; the usage text follows the message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ArgsError {
    /// Nothing after `switchboard`.
    #[error("no command given")]
    NoCommand,
    /// A first word other than `new`, `help`.
    #[error("unknown command `{0}`; the command is `new`")]
    UnknownCommand(String),
    /// `new` alone.
    #[error("`new` needs what to generate: `channel` or `socket`")]
    MissingKind,
    /// `new` followed by something else.
    #[error("cannot generate `{0}`; `new` generates a `channel` or a `socket` listener")]
    UnknownKind(String),
    /// A positional argument is missing.
    #[error("`new {kind}` needs {what}")]
    Missing {
        /// `channel` or `socket`.
        kind: &'static str,
        /// What is missing, in words.
        what: &'static str,
    },
    /// One positional argument too many.
    #[error("unexpected argument `{0}` (quote a pattern that holds spaces or braces)")]
    Unexpected(String),
    /// An option this command does not know.
    #[error("unknown option `{0}`")]
    UnknownOption(String),
    /// `--app` as the last argument.
    #[error("`--app` needs a directory")]
    MissingAppDir,
    /// `--app` twice.
    #[error("`--app` is given twice")]
    DuplicateApp,
    /// A name, pattern or event that is not valid UTF-8 (a directory may be anything).
    #[error("argument {0:?} is not valid UTF-8")]
    NotUtf8(OsString),
}

/// Parses the arguments after the program name.
///
/// Options may come anywhere; `--` ends them, so a pattern may start with `-`.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, ArgsError> {
    let mut words: Vec<OsString> = Vec::new();
    let mut app: Option<PathBuf> = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            // Only `--app`'s value may be a non-UTF-8 path; it is read below.
            words.push(arg);
            continue;
        };
        match text {
            "--" => {
                words.extend(args.by_ref());
                break;
            }
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--app" => {
                let dir = args.next().ok_or(ArgsError::MissingAppDir)?;
                set_app(&mut app, PathBuf::from(dir))?;
            }
            _ if text.starts_with("--app=") => {
                let dir = &text["--app=".len()..];
                if dir.is_empty() {
                    return Err(ArgsError::MissingAppDir);
                }
                set_app(&mut app, PathBuf::from(dir))?;
            }
            // A lone `-` is a word (a pattern could be `-`; the pattern check says why not).
            _ if text.starts_with('-') && text.len() > 1 => {
                return Err(ArgsError::UnknownOption(text.to_owned()));
            }
            _ => words.push(arg),
        }
    }

    let mut words = words.into_iter();
    let app = app.unwrap_or_else(|| PathBuf::from("."));
    match next_word(&mut words)?.as_deref() {
        None => Err(ArgsError::NoCommand),
        Some("help") => Ok(Command::Help),
        Some("new") => match next_word(&mut words)?.as_deref() {
            None => Err(ArgsError::MissingKind),
            Some("channel") => {
                let name = required(&mut words, "channel", "a NAME (as in `Receipt`)")?;
                let pattern = required(
                    &mut words,
                    "channel",
                    "a PATTERN after the name (as in \"receipt.{id}\")",
                )?;
                no_more(words)?;
                Ok(Command::NewChannel { name, pattern, app })
            }
            Some("socket") => {
                let name = required(&mut words, "socket", "a NAME (as in `Nudge`)")?;
                let event = required(
                    &mut words,
                    "socket",
                    "an EVENT after the name (as in `nudge`)",
                )?;
                no_more(words)?;
                Ok(Command::NewSocket { name, event, app })
            }
            Some(other) => Err(ArgsError::UnknownKind(other.to_owned())),
        },
        Some(other) => Err(ArgsError::UnknownCommand(other.to_owned())),
    }
}

fn set_app(app: &mut Option<PathBuf>, dir: PathBuf) -> Result<(), ArgsError> {
    if app.replace(dir).is_some() {
        return Err(ArgsError::DuplicateApp);
    }
    Ok(())
}

fn next_word(words: &mut impl Iterator<Item = OsString>) -> Result<Option<String>, ArgsError> {
    words
        .next()
        .map(|w| w.into_string().map_err(ArgsError::NotUtf8))
        .transpose()
}

fn required(
    words: &mut impl Iterator<Item = OsString>,
    kind: &'static str,
    what: &'static str,
) -> Result<String, ArgsError> {
    next_word(words)?.ok_or(ArgsError::Missing { kind, what })
}

fn no_more(mut words: impl Iterator<Item = OsString>) -> Result<(), ArgsError> {
    match words.next() {
        None => Ok(()),
        Some(extra) => Err(ArgsError::Unexpected(extra.to_string_lossy().into_owned())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn parse_str(args: &[&str]) -> Result<Command, ArgsError> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn new_channel() {
        assert_eq!(
            parse_str(&["new", "channel", "Receipt", "receipt.{id}"]),
            Ok(Command::NewChannel {
                name: "Receipt".into(),
                pattern: "receipt.{id}".into(),
                app: PathBuf::from("."),
            })
        );
    }

    #[test]
    fn app_option_anywhere_in_both_spellings() {
        let expected = Ok(Command::NewChannel {
            name: "Receipt".into(),
            pattern: "receipt.{id}".into(),
            app: PathBuf::from("my-app"),
        });
        assert_eq!(
            parse_str(&[
                "new",
                "channel",
                "Receipt",
                "receipt.{id}",
                "--app",
                "my-app"
            ]),
            expected
        );
        assert_eq!(
            parse_str(&["--app=my-app", "new", "channel", "Receipt", "receipt.{id}"]),
            expected
        );
        assert_eq!(
            parse_str(&[
                "new",
                "--app",
                "my-app",
                "channel",
                "Receipt",
                "receipt.{id}"
            ]),
            expected
        );
    }

    #[test]
    fn new_socket() {
        assert_eq!(
            parse_str(&["new", "socket", "Nudge", "nudge", "--app", "x"]),
            Ok(Command::NewSocket {
                name: "Nudge".into(),
                event: "nudge".into(),
                app: PathBuf::from("x"),
            })
        );
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse_str(&["--help"]), Ok(Command::Help));
        assert_eq!(parse_str(&["help"]), Ok(Command::Help));
        assert_eq!(parse_str(&["new", "channel", "-h"]), Ok(Command::Help));
        assert_eq!(parse_str(&["-V"]), Ok(Command::Version));
    }

    #[test]
    fn double_dash_lets_a_pattern_start_with_a_dash() {
        assert_eq!(
            parse_str(&["new", "channel", "--", "Odd", "-odd.{id}"]),
            Ok(Command::NewChannel {
                name: "Odd".into(),
                pattern: "-odd.{id}".into(),
                app: PathBuf::from("."),
            })
        );
    }

    #[test]
    fn errors() {
        assert_eq!(parse_str(&[]), Err(ArgsError::NoCommand));
        assert_eq!(
            parse_str(&["generate"]),
            Err(ArgsError::UnknownCommand("generate".into()))
        );
        assert_eq!(parse_str(&["new"]), Err(ArgsError::MissingKind));
        assert_eq!(
            parse_str(&["new", "model", "X"]),
            Err(ArgsError::UnknownKind("model".into()))
        );
        assert!(matches!(
            parse_str(&["new", "channel"]),
            Err(ArgsError::Missing {
                kind: "channel",
                ..
            })
        ));
        assert!(matches!(
            parse_str(&["new", "channel", "Receipt"]),
            Err(ArgsError::Missing { what, .. }) if what.contains("PATTERN")
        ));
        assert!(matches!(
            parse_str(&["new", "socket", "Nudge"]),
            Err(ArgsError::Missing { what, .. }) if what.contains("EVENT")
        ));
        // An unquoted pattern with a space splits into two words.
        assert_eq!(
            parse_str(&["new", "channel", "Receipt", "receipt.{id}", "extra"]),
            Err(ArgsError::Unexpected("extra".into()))
        );
        assert_eq!(
            parse_str(&["new", "channel", "Receipt", "r", "--force"]),
            Err(ArgsError::UnknownOption("--force".into()))
        );
        assert_eq!(
            parse_str(&["new", "channel", "Receipt", "r", "--app"]),
            Err(ArgsError::MissingAppDir)
        );
        assert_eq!(
            parse_str(&["new", "channel", "Receipt", "r", "--app="]),
            Err(ArgsError::MissingAppDir)
        );
        assert_eq!(
            parse_str(&["--app", "a", "new", "channel", "R", "r", "--app", "b"]),
            Err(ArgsError::DuplicateApp)
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_non_utf8_directory_is_fine_a_non_utf8_name_is_not() {
        use std::os::unix::ffi::OsStringExt;
        let odd = OsString::from_vec(vec![b'a', 0xff]);
        let args = ["new", "channel", "R", "r", "--app"].map(OsString::from);
        let with_dir = args.iter().cloned().chain([odd.clone()]);
        assert!(
            matches!(parse(with_dir), Ok(Command::NewChannel { app, .. }) if app.as_os_str() == odd)
        );
        let with_name = ["new", "channel"]
            .map(OsString::from)
            .into_iter()
            .chain([odd.clone(), OsString::from("r")]);
        assert_eq!(parse(with_name), Err(ArgsError::NotUtf8(odd)));
    }
}
