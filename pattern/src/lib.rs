//! Channel names and listener patterns of the Switchboard wire protocol.
//!
//! This crate has no dependencies. It is shared by the proc-macro crate (which
//! checks pattern literals at compile time and reports the [`PatternError`]
//! message at the literal) and by the runtime (which compiles patterns with
//! [`Pattern::to_regex`], ranks them with [`Pattern::rank`], and refuses
//! ambiguous sets at start-up with [`find_conflicts`]).
//!
//! # Channel names
//!
//! A channel name is 1 to [`MAX_CHANNEL_LEN`] (200) bytes of
//! `[A-Za-z0-9_.:@=,-]`, e.g. `user:chat.42` or `global-chat`.
//! See [`validate_channel_name`].
//!
//! # Listener patterns
//!
//! A pattern is a channel name in which wildcards stand for a **non-empty run of
//! characters other than `:`**:
//!
//! ```text
//! pattern      = 1*( literal / wildcard )     ; 1..=200 bytes as written
//! literal      = 1*channel-char
//! wildcard     = "*" / "{" param-name "}"
//! param-name   = ( ALPHA / "_" ) *( ALPHA / DIGIT / "_" )
//! channel-char = ALPHA / DIGIT / "_" / "." / ":" / "@" / "=" / "," / "-"
//! ```
//!
//! * `*` is an unnamed wildcard, `{id}` a named one; both capture (unnamed
//!   captures are reachable by position, see [`Captures`]).
//! * Several wildcards per pattern are allowed, but never two in a row
//!   (`**`, `*{id}`, `{a}{b}`): the split between them would be ambiguous.
//! * Parameter names are unique within one pattern.
//! * A pattern without wildcards matches exactly one channel (`global-chat`).
//! * Wildcards never cross `:`, so `user:*` matches `user:chat.42` but not
//!   `user:chat:42`.
//!
//! When several captures are possible, [`Pattern::matches`] picks the same split
//! as the anchored regex from [`Pattern::to_regex`] (greedy, leftmost-first).
//!
//! # Ranking and ambiguity
//!
//! When several patterns match a channel, the one with the most literal text
//! ([`Pattern::rank`], in bytes) wins: `user:chat.*` (rank 10) beats `user:*`
//! (rank 5). Two patterns that can match a common channel with equal rank are
//! ambiguous, and identical patterns (even with different parameter names) are
//! duplicates; [`find_conflicts`] reports both kinds so the server can refuse
//! them at start-up.
//!
//! ```
//! use switchboard_pattern::{Pattern, find_conflicts};
//!
//! let chat = Pattern::parse("user:chat.{id}")?;
//! let caps = chat.matches("user:chat.42").expect("matches");
//! assert_eq!(caps.get("id"), Some("42"));
//! assert_eq!(chat.to_regex(), r"^user:chat\.(?P<id>[^:]+)$");
//!
//! let any_user = Pattern::parse("user:*")?;
//! assert!(chat.overlaps(&any_user));
//! assert!(chat.rank() > any_user.rank());
//! assert!(find_conflicts(&[&chat, &any_user]).is_empty());
//! # Ok::<(), switchboard_pattern::PatternError>(())
//! ```

mod error;
mod matching;
mod overlap;
mod parse;

pub use error::{NameError, PatternError};
pub use matching::{Captures, best_match};
pub use overlap::find_conflicts;
pub use parse::{Pattern, Segment};

/// Maximum length of a channel name, and of a pattern as written, in bytes.
pub const MAX_CHANNEL_LEN: usize = 200;

/// Whether `c` may appear in a channel name: `[A-Za-z0-9_.:@=,-]`.
///
/// ```
/// use switchboard_pattern::is_channel_char;
///
/// assert!(is_channel_char(':'));
/// assert!(!is_channel_char('*'));
/// assert!(!is_channel_char('é'));
/// ```
pub fn is_channel_char(c: char) -> bool {
    matches!(c, 'A'..='Z' | 'a'..='z' | '0'..='9' | '_' | '.' | ':' | '@' | '=' | ',' | '-')
}

/// Check that `name` is a valid channel name: 1 to [`MAX_CHANNEL_LEN`] bytes of
/// [channel characters](is_channel_char).
///
/// ```
/// use switchboard_pattern::{NameError, validate_channel_name};
///
/// assert_eq!(validate_channel_name("user:chat.42"), Ok(()));
/// assert_eq!(
///     validate_channel_name("room#1"),
///     Err(NameError::BadChar { ch: '#', at: 4 })
/// );
/// ```
pub fn validate_channel_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_CHANNEL_LEN {
        return Err(NameError::TooLong { len: name.len() });
    }
    match name.char_indices().find(|&(_, c)| !is_channel_char(c)) {
        Some((at, ch)) => Err(NameError::BadChar { ch, at }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod test_util {
    /// All strings over `alphabet` of length 0..=max_len.
    pub(crate) fn all_names(alphabet: &[u8], max_len: usize) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..max_len {
            last = last
                .iter()
                .flat_map(|s| {
                    alphabet
                        .iter()
                        .map(move |&c| format!("{s}{}", char::from(c)))
                })
                .collect();
            out.extend(last.iter().cloned());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_chars() {
        let allowed = "ABCXYZabcxyz0189_.:@=,-";
        assert!(allowed.chars().all(is_channel_char));
        for c in [
            '*', '{', '}', ' ', '#', '/', '\n', '\0', 'é', '😀', '+', '$',
        ] {
            assert!(!is_channel_char(c), "{c:?}");
        }
    }

    #[test]
    fn valid_names() {
        for name in [
            "global-chat",
            "user:chat.42",
            "a",
            "x@y=z,w_v-u.t:s",
            &"n".repeat(MAX_CHANNEL_LEN),
        ] {
            assert_eq!(validate_channel_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn name_errors() {
        assert_eq!(validate_channel_name(""), Err(NameError::Empty));
        assert_eq!(
            validate_channel_name(&"n".repeat(MAX_CHANNEL_LEN + 1)),
            Err(NameError::TooLong { len: 201 })
        );
        assert_eq!(
            validate_channel_name("user chat"),
            Err(NameError::BadChar { ch: ' ', at: 4 })
        );
        assert_eq!(
            validate_channel_name("user:*"),
            Err(NameError::BadChar { ch: '*', at: 5 })
        );
        // Offsets are in bytes, also after multi-byte characters.
        assert_eq!(
            validate_channel_name("é"),
            Err(NameError::BadChar { ch: 'é', at: 0 })
        );
        assert_eq!(
            validate_channel_name("ab😀"),
            Err(NameError::BadChar { ch: '😀', at: 2 })
        );
    }
}
