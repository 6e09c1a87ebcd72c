//! Error types for channel names and listener patterns.
//!
//! The `Display` messages are shown verbatim to users (by the proc macro, pointing
//! at the offending string literal, and by the server at start-up), so each one
//! says what is wrong, where (byte offset into the string), and what is allowed.

use std::fmt;

use crate::MAX_CHANNEL_LEN;

/// The characters a channel name may contain, spelled out for error messages.
const ALLOWED_NAME_CHARS: &str = "A-Z a-z 0-9 _ . : @ = , -";

/// Why a string is not a valid channel name (see [`validate_channel_name`](crate::validate_channel_name)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// The name is the empty string.
    Empty,
    /// The name is longer than [`MAX_CHANNEL_LEN`] bytes.
    TooLong {
        /// Length of the name in bytes.
        len: usize,
    },
    /// The name contains a character outside `[A-Za-z0-9_.:@=,-]`.
    BadChar {
        /// The offending character.
        ch: char,
        /// Its byte offset in the name.
        at: usize,
    },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(
                f,
                "channel name is empty (a name has 1 to {MAX_CHANNEL_LEN} characters)"
            ),
            Self::TooLong { len } => write!(
                f,
                "channel name is {len} bytes long; the maximum is {MAX_CHANNEL_LEN} bytes"
            ),
            Self::BadChar { ch, at } => write!(
                f,
                "character {ch:?} at byte {at} is not allowed in a channel name \
                 (allowed: {ALLOWED_NAME_CHARS})"
            ),
        }
    }
}

impl std::error::Error for NameError {}

/// Why a string is not a valid listener pattern (see [`Pattern::parse`](crate::Pattern::parse)).
///
/// Byte offsets (`at`) are relative to the start of the pattern string.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatternError {
    /// The pattern is the empty string.
    Empty,
    /// The pattern is longer than [`MAX_CHANNEL_LEN`] bytes.
    TooLong {
        /// Length of the pattern in bytes.
        len: usize,
    },
    /// A character that is neither a channel-name character nor part of a wildcard.
    BadChar {
        /// The offending character.
        ch: char,
        /// Its byte offset in the pattern.
        at: usize,
    },
    /// A `{` without a closing `}`.
    UnclosedParam {
        /// Byte offset of the `{`.
        at: usize,
    },
    /// `{}`: a parameter without a name.
    EmptyParam {
        /// Byte offset of the `{`.
        at: usize,
    },
    /// A parameter name that is not `[A-Za-z_][A-Za-z0-9_]*`.
    BadParamName {
        /// The name as written between the braces.
        name: String,
        /// Byte offset of the `{`.
        at: usize,
    },
    /// The same parameter name appears twice in one pattern.
    DuplicateParam {
        /// The repeated name.
        name: String,
    },
    /// Two wildcards directly next to each other (`**`, `*{id}`, `{a}{b}`).
    AdjacentWildcards {
        /// Byte offset of the second wildcard.
        at: usize,
    },
    /// A `}` that closes nothing, or a `{` inside a parameter name.
    UnexpectedBrace {
        /// Byte offset of the brace.
        at: usize,
    },
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(
                f,
                "channel pattern is empty (a pattern has 1 to {MAX_CHANNEL_LEN} characters)"
            ),
            Self::TooLong { len } => write!(
                f,
                "channel pattern is {len} bytes long; the maximum is {MAX_CHANNEL_LEN} bytes"
            ),
            Self::BadChar { ch, at } => write!(
                f,
                "character {ch:?} at byte {at} is not allowed in a channel pattern \
                 (allowed: {ALLOWED_NAME_CHARS} and * or {{name}} wildcards)"
            ),
            Self::UnclosedParam { at } => write!(
                f,
                "parameter opened by '{{' at byte {at} is never closed (expected '}}' \
                 after the parameter name, as in {{id}})"
            ),
            Self::EmptyParam { at } => write!(
                f,
                "parameter '{{}}' at byte {at} has no name; write a name such as {{id}}, \
                 or use * for an unnamed wildcard"
            ),
            Self::BadParamName { name, at } => write!(
                f,
                "parameter name {name:?} at byte {at} is not valid; a parameter name starts \
                 with a letter or '_' and contains only letters, digits and '_'"
            ),
            Self::DuplicateParam { name } => write!(
                f,
                "parameter name {name:?} is used more than once in this pattern; \
                 parameter names must be unique (use * for a wildcard you do not need by name)"
            ),
            Self::AdjacentWildcards { at } => write!(
                f,
                "wildcard at byte {at} directly follows another wildcard, which makes the \
                 split between them ambiguous; put literal text (such as '.') between them"
            ),
            Self::UnexpectedBrace { at } => write!(
                f,
                "misplaced brace at byte {at}; '{{' and '}}' may only enclose a parameter \
                 name, as in {{id}}, and cannot be nested"
            ),
        }
    }
}

impl std::error::Error for PatternError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_error_messages() {
        assert_eq!(
            NameError::BadChar { ch: '#', at: 4 }.to_string(),
            "character '#' at byte 4 is not allowed in a channel name \
             (allowed: A-Z a-z 0-9 _ . : @ = , -)"
        );
        assert_eq!(
            NameError::TooLong { len: 201 }.to_string(),
            "channel name is 201 bytes long; the maximum is 200 bytes"
        );
        assert!(NameError::Empty.to_string().contains("empty"));
    }

    #[test]
    fn pattern_error_messages() {
        assert_eq!(
            PatternError::BadChar { ch: '#', at: 4 }.to_string(),
            "character '#' at byte 4 is not allowed in a channel pattern \
             (allowed: A-Z a-z 0-9 _ . : @ = , - and * or {name} wildcards)"
        );
        // Control characters are escaped, so the message stays on one line.
        assert!(
            PatternError::BadChar { ch: '\n', at: 0 }
                .to_string()
                .starts_with("character '\\n' at byte 0")
        );
        assert_eq!(
            PatternError::UnclosedParam { at: 3 }.to_string(),
            "parameter opened by '{' at byte 3 is never closed (expected '}' \
             after the parameter name, as in {id})"
        );
        assert!(
            PatternError::EmptyParam { at: 2 }
                .to_string()
                .starts_with("parameter '{}' at byte 2 has no name")
        );
        assert!(
            PatternError::BadParamName {
                name: "1x".into(),
                at: 0
            }
            .to_string()
            .starts_with("parameter name \"1x\" at byte 0 is not valid")
        );
        assert!(
            PatternError::DuplicateParam { name: "id".into() }
                .to_string()
                .starts_with("parameter name \"id\" is used more than once")
        );
        assert!(
            PatternError::AdjacentWildcards { at: 1 }
                .to_string()
                .starts_with("wildcard at byte 1 directly follows another wildcard")
        );
        assert!(
            PatternError::UnexpectedBrace { at: 5 }
                .to_string()
                .starts_with("misplaced brace at byte 5")
        );
    }

    #[test]
    fn messages_are_lower_case_and_single_line() {
        let all = [
            PatternError::Empty,
            PatternError::TooLong { len: 300 },
            PatternError::BadChar { ch: ' ', at: 1 },
            PatternError::UnclosedParam { at: 1 },
            PatternError::EmptyParam { at: 1 },
            PatternError::BadParamName {
                name: "a-b".into(),
                at: 1,
            },
            PatternError::DuplicateParam { name: "id".into() },
            PatternError::AdjacentWildcards { at: 1 },
            PatternError::UnexpectedBrace { at: 1 },
        ];
        for err in all {
            let msg = err.to_string();
            assert!(msg.starts_with(char::is_lowercase), "{msg}");
            assert!(!msg.contains('\n') && !msg.ends_with('.'), "{msg}");
        }
    }
}
