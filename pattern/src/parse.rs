//! The [`Pattern`] type, its parser, and its regex translation.

use std::fmt;
use std::str::{CharIndices, FromStr};
use std::sync::Arc;

use crate::{MAX_CHANNEL_LEN, PatternError, is_channel_char};

/// One piece of a parsed [`Pattern`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// Literal text, matched byte for byte; never empty, never next to another literal.
    Literal(String),
    /// `*` (`name: None`) or `{name}`: a non-empty run of characters other than `:`.
    Wildcard {
        /// The parameter name of a `{name}` wildcard.
        name: Option<String>,
    },
}

impl Segment {
    /// Whether this is a [`Segment::Wildcard`].
    pub fn is_wildcard(&self) -> bool {
        matches!(self, Self::Wildcard { .. })
    }
}

/// A validated listener pattern such as `user:chat.{id}`; see the [crate docs](crate)
/// for the grammar.
///
/// Two patterns compare equal when they are written identically. Use
/// [`Pattern::is_duplicate_of`] to compare them modulo parameter names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    pub(crate) source: String,
    /// Alternating literals and wildcards, in order; literals are merged and
    /// non-empty, wildcards are never adjacent.
    pub(crate) segments: Vec<Segment>,
    /// The wildcards' names in order (shared with [`Captures`](crate::Captures)).
    pub(crate) names: Arc<[Option<String>]>,
}

impl Pattern {
    /// Parse and validate a pattern.
    ///
    /// ```
    /// use switchboard_pattern::{Pattern, PatternError, Segment};
    ///
    /// let p = Pattern::parse("user:chat.{id}")?;
    /// assert_eq!(
    ///     p.segments(),
    ///     [
    ///         Segment::Literal("user:chat.".into()),
    ///         Segment::Wildcard { name: Some("id".into()) },
    ///     ]
    /// );
    /// assert_eq!(
    ///     Pattern::parse("user:{id}{x}"),
    ///     Err(PatternError::AdjacentWildcards { at: 9 })
    /// );
    /// # Ok::<(), PatternError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The first problem found, scanning left to right (length problems first);
    /// see [`PatternError`].
    pub fn parse(source: &str) -> Result<Pattern, PatternError> {
        if source.is_empty() {
            return Err(PatternError::Empty);
        }
        if source.len() > MAX_CHANNEL_LEN {
            return Err(PatternError::TooLong { len: source.len() });
        }

        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut chars = source.char_indices();
        while let Some((at, ch)) = chars.next() {
            match ch {
                '*' => push_wildcard(&mut segments, &mut literal, at, None)?,
                '{' => {
                    let name = read_param_name(source, at, &mut chars)?;
                    push_wildcard(&mut segments, &mut literal, at, Some(name))?;
                }
                '}' => return Err(PatternError::UnexpectedBrace { at }),
                c if is_channel_char(c) => literal.push(c),
                c => return Err(PatternError::BadChar { ch: c, at }),
            }
        }
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal));
        }

        let names = segments
            .iter()
            .filter_map(|s| match s {
                Segment::Wildcard { name } => Some(name.clone()),
                Segment::Literal(_) => None,
            })
            .collect();
        Ok(Pattern {
            source: source.to_owned(),
            segments,
            names,
        })
    }

    /// The pattern as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The literals and wildcards, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Total bytes of literal text; among the patterns matching a channel, the
    /// highest rank wins.
    ///
    /// ```
    /// use switchboard_pattern::Pattern;
    ///
    /// assert_eq!(Pattern::parse("user:chat.*")?.rank(), 10);
    /// assert_eq!(Pattern::parse("user:{name}")?.rank(), 5);
    /// # Ok::<(), switchboard_pattern::PatternError>(())
    /// ```
    pub fn rank(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(text) => text.len(),
                Segment::Wildcard { .. } => 0,
            })
            .sum()
    }

    /// Whether the pattern has no wildcard, i.e. matches exactly one channel name.
    pub fn is_exact(&self) -> bool {
        self.names.is_empty()
    }

    /// Number of wildcards (named or not), i.e. of captures on a match.
    pub fn wildcard_count(&self) -> usize {
        self.names.len()
    }

    /// The parameter names of the `{name}` wildcards, in order (`*` is skipped).
    ///
    /// ```
    /// use switchboard_pattern::Pattern;
    ///
    /// let p = Pattern::parse("a.{x}.b.*.{y}")?;
    /// assert_eq!(p.param_names().collect::<Vec<_>>(), ["x", "y"]);
    /// # Ok::<(), switchboard_pattern::PatternError>(())
    /// ```
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().filter_map(|n| n.as_deref())
    }

    /// The anchored regex source for this pattern, for the `regex` crate:
    /// literals escaped, `*` as `([^:]+)`, `{name}` as `(?P<name>[^:]+)`.
    ///
    /// The regex and [`Pattern::matches`] accept the same names and capture the
    /// same substrings.
    ///
    /// ```
    /// use switchboard_pattern::Pattern;
    ///
    /// let p = Pattern::parse("a.{x}.b-*")?;
    /// assert_eq!(p.to_regex(), r"^a\.(?P<x>[^:]+)\.b\-([^:]+)$");
    /// # Ok::<(), switchboard_pattern::PatternError>(())
    /// ```
    pub fn to_regex(&self) -> String {
        let mut out = String::with_capacity(self.source.len() * 2 + 16);
        out.push('^');
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => {
                    for c in text.chars() {
                        if is_regex_meta(c) {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                }
                Segment::Wildcard { name: None } => out.push_str("([^:]+)"),
                Segment::Wildcard { name: Some(name) } => {
                    out.push_str("(?P<");
                    out.push_str(name);
                    out.push_str(">[^:]+)");
                }
            }
        }
        out.push('$');
        out
    }
}

impl fmt::Display for Pattern {
    /// Writes the pattern as written ([`Pattern::source`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for Pattern {
    type Err = PatternError;

    /// Same as [`Pattern::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Close the pending literal and append a wildcard that starts at byte `at`.
fn push_wildcard(
    segments: &mut Vec<Segment>,
    literal: &mut String,
    at: usize,
    name: Option<String>,
) -> Result<(), PatternError> {
    if !literal.is_empty() {
        segments.push(Segment::Literal(std::mem::take(literal)));
    } else if segments.last().is_some_and(Segment::is_wildcard) {
        return Err(PatternError::AdjacentWildcards { at });
    }
    if let Some(name) = &name {
        let taken = segments
            .iter()
            .any(|s| matches!(s, Segment::Wildcard { name: Some(n) } if n == name));
        if taken {
            return Err(PatternError::DuplicateParam { name: name.clone() });
        }
    }
    segments.push(Segment::Wildcard { name });
    Ok(())
}

/// Read a `{name}` whose `{` is at byte `open`; `chars` is positioned just after it
/// and is left just after the `}`.
fn read_param_name(
    source: &str,
    open: usize,
    chars: &mut CharIndices<'_>,
) -> Result<String, PatternError> {
    for (at, ch) in chars.by_ref() {
        match ch {
            '{' => return Err(PatternError::UnexpectedBrace { at }),
            '}' => {
                let name = source.get(open + 1..at).unwrap_or_default();
                if name.is_empty() {
                    return Err(PatternError::EmptyParam { at: open });
                }
                if !is_param_name(name) {
                    return Err(PatternError::BadParamName {
                        name: name.to_owned(),
                        at: open,
                    });
                }
                return Ok(name.to_owned());
            }
            _ => {}
        }
    }
    Err(PatternError::UnclosedParam { at: open })
}

/// `[A-Za-z_][A-Za-z0-9_]*`
fn is_param_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Characters the `regex` crate treats as meta characters (same set as
/// `regex::escape`); of the channel characters only `.` and `-` are affected.
fn is_regex_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.'
            | '+'
            | '*'
            | '?'
            | '('
            | ')'
            | '|'
            | '['
            | ']'
            | '{'
            | '}'
            | '^'
            | '$'
            | '#'
            | '&'
            | '-'
            | '~'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Segment {
        Segment::Literal(s.to_owned())
    }
    fn star() -> Segment {
        Segment::Wildcard { name: None }
    }
    fn param(n: &str) -> Segment {
        Segment::Wildcard {
            name: Some(n.to_owned()),
        }
    }
    fn parse(s: &str) -> Pattern {
        Pattern::parse(s).expect("valid pattern")
    }

    #[test]
    fn parses_wildcard_forms() {
        let p = parse("user:chat.*");
        assert_eq!(p.segments(), [lit("user:chat."), star()]);
        assert_eq!(p.source(), "user:chat.*");
        assert_eq!(p.rank(), 10);
        assert!(!p.is_exact());
        assert_eq!(p.param_names().count(), 0);
        assert_eq!(p.wildcard_count(), 1);

        let p = parse("user:chat.{id}");
        assert_eq!(p.segments(), [lit("user:chat."), param("id")]);
        assert_eq!(p.param_names().collect::<Vec<_>>(), ["id"]);

        let p = parse("a.{x}.b.*");
        assert_eq!(p.segments(), [lit("a."), param("x"), lit(".b."), star()]);
        assert_eq!(p.rank(), 5);
        assert_eq!(p.param_names().collect::<Vec<_>>(), ["x"]);
        assert_eq!(p.wildcard_count(), 2);

        let p = parse("*:{_Room9}.x");
        assert_eq!(p.segments(), [star(), lit(":"), param("_Room9"), lit(".x")]);
        assert_eq!(p.rank(), 3);
    }

    #[test]
    fn parses_exact_patterns() {
        let p = parse("global-chat");
        assert_eq!(p.segments(), [lit("global-chat")]);
        assert!(p.is_exact());
        assert_eq!(p.rank(), 11);
        assert_eq!(p.wildcard_count(), 0);

        let p = parse("*");
        assert_eq!(p.segments(), [star()]);
        assert_eq!(p.rank(), 0);
    }

    #[test]
    fn length_limits() {
        assert_eq!(Pattern::parse(""), Err(PatternError::Empty));
        let max = "a".repeat(MAX_CHANNEL_LEN - 4) + "{id}";
        assert_eq!(parse(&max).rank(), MAX_CHANNEL_LEN - 4);
        assert_eq!(
            Pattern::parse(&"a".repeat(MAX_CHANNEL_LEN + 1)),
            Err(PatternError::TooLong { len: 201 })
        );
    }

    #[test]
    fn bad_chars() {
        assert_eq!(
            Pattern::parse("room#1"),
            Err(PatternError::BadChar { ch: '#', at: 4 })
        );
        assert_eq!(
            Pattern::parse("é.*"),
            Err(PatternError::BadChar { ch: 'é', at: 0 })
        );
        assert_eq!(
            Pattern::parse("a.*/b"),
            Err(PatternError::BadChar { ch: '/', at: 3 })
        );
        assert_eq!(
            Pattern::parse("a?"),
            Err(PatternError::BadChar { ch: '?', at: 1 })
        );
    }

    #[test]
    fn param_errors() {
        assert_eq!(
            Pattern::parse("a.{id"),
            Err(PatternError::UnclosedParam { at: 2 })
        );
        assert_eq!(
            Pattern::parse("a.{"),
            Err(PatternError::UnclosedParam { at: 2 })
        );
        assert_eq!(
            Pattern::parse("a.{}"),
            Err(PatternError::EmptyParam { at: 2 })
        );
        for (src, name) in [
            ("{1x}", "1x"),
            ("{a-b}", "a-b"),
            ("{a b}", "a b"),
            ("{a:b}", "a:b"),
            ("{*}", "*"),
            ("{é}", "é"),
        ] {
            assert_eq!(
                Pattern::parse(src),
                Err(PatternError::BadParamName {
                    name: name.to_owned(),
                    at: 0
                }),
                "{src}"
            );
        }
        assert_eq!(
            Pattern::parse("{id}.{id}"),
            Err(PatternError::DuplicateParam {
                name: "id".to_owned()
            })
        );
        // Different names are fine, and `*` never clashes.
        assert_eq!(parse("{a}.{b}.*.*").wildcard_count(), 4);
    }

    #[test]
    fn adjacent_wildcards() {
        for (src, at) in [("**", 1), ("a.*{id}", 3), ("{a}{b}", 3), ("{a}*.x", 3)] {
            assert_eq!(
                Pattern::parse(src),
                Err(PatternError::AdjacentWildcards { at }),
                "{src}"
            );
        }
    }

    #[test]
    fn unexpected_braces() {
        assert_eq!(
            Pattern::parse("a}"),
            Err(PatternError::UnexpectedBrace { at: 1 })
        );
        assert_eq!(
            Pattern::parse("{a}}"),
            Err(PatternError::UnexpectedBrace { at: 3 })
        );
        assert_eq!(
            Pattern::parse("{a{b}}"),
            Err(PatternError::UnexpectedBrace { at: 2 })
        );
        assert_eq!(
            Pattern::parse("{{id}}"),
            Err(PatternError::UnexpectedBrace { at: 1 })
        );
    }

    #[test]
    fn first_error_wins() {
        // Scanning is left to right; the parameter is checked before adjacency.
        assert_eq!(
            Pattern::parse("#{}"),
            Err(PatternError::BadChar { ch: '#', at: 0 })
        );
        assert_eq!(
            Pattern::parse("*{}"),
            Err(PatternError::EmptyParam { at: 1 })
        );
        assert_eq!(
            Pattern::parse("{a}{a}"),
            Err(PatternError::AdjacentWildcards { at: 3 })
        );
    }

    #[test]
    fn regex_source() {
        assert_eq!(parse("user:chat.*").to_regex(), r"^user:chat\.([^:]+)$");
        assert_eq!(
            parse("user:chat.{id}").to_regex(),
            r"^user:chat\.(?P<id>[^:]+)$"
        );
        assert_eq!(parse("global-chat").to_regex(), r"^global\-chat$");
        assert_eq!(
            parse("*@x=y,z_{n}").to_regex(),
            r"^([^:]+)@x=y,z_(?P<n>[^:]+)$"
        );
    }

    #[test]
    fn display_and_from_str() {
        let p: Pattern = "a.{x}".parse().expect("valid");
        assert_eq!(p.to_string(), "a.{x}");
        assert!("a.{".parse::<Pattern>().is_err());
    }
}
