//! A channel pattern, checked with the pattern crate, and what the templates need from
//! it: a concrete channel for the test, and the channel name as a JavaScript expression.

use std::fmt;

use switchboard_pattern::{Pattern, PatternError, Segment};

/// A valid pattern, with the pieces the templates fill in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelShape {
    /// The parsed pattern (`source()` is the pattern as written: `receipt.{id}`).
    pub pattern: Pattern,
    /// A concrete channel it matches, with sample values: `receipt.42`.
    pub sample: String,
    /// One entry per wildcard, in order.
    pub params: Vec<Param>,
}

/// One wildcard of the pattern, as the client snippet names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// `{id}`'s `id`; an unnamed `*` gets `wildcard1`, `wildcard2`, … (skipping names
    /// the pattern uses).
    pub key: String,
    /// Whether the pattern names it (`{id}`) rather than `*`.
    pub named: bool,
    /// The value in [`ChannelShape::sample`].
    pub sample: String,
}

/// A pattern the pattern crate refused: its message, and a caret under the offending
/// byte when the error has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternProblem {
    /// The pattern as given.
    pub pattern: String,
    /// The parser's error.
    pub error: PatternError,
}

impl fmt::Display for PatternProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid channel pattern {:?}: {}",
            self.pattern, self.error
        )?;
        if let Some(at) = error_offset(&self.error) {
            // Columns count characters, not bytes, so the caret sits under a
            // multi-byte character too. The pattern is indented past `{:?}`'s quote.
            let column = self.pattern.get(..at).map_or(0, |s| s.chars().count());
            write!(f, "\n    {}\n    {}^", self.pattern, " ".repeat(column))?;
        }
        Ok(())
    }
}

impl std::error::Error for PatternProblem {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// The byte offset an error points at, if it points at one.
fn error_offset(error: &PatternError) -> Option<usize> {
    match *error {
        PatternError::BadChar { at, .. }
        | PatternError::UnclosedParam { at }
        | PatternError::EmptyParam { at }
        | PatternError::BadParamName { at, .. }
        | PatternError::AdjacentWildcards { at }
        | PatternError::UnexpectedBrace { at } => Some(at),
        // Empty, too long, a duplicate name: the message says it all. (The enum is
        // non-exhaustive: a new kind of error shows without a caret.)
        _ => None,
    }
}

/// Parses `pattern` with the runtime's own parser and derives the sample channel.
pub fn shape(pattern: &str) -> Result<ChannelShape, PatternProblem> {
    let parsed = Pattern::parse(pattern).map_err(|error| PatternProblem {
        pattern: pattern.to_owned(),
        error,
    })?;
    let used: Vec<String> = parsed.param_names().map(str::to_owned).collect();
    let mut params = Vec::new();
    let mut sample = String::with_capacity(pattern.len());
    let mut unnamed: u32 = 0;
    for segment in parsed.segments() {
        match segment {
            Segment::Literal(text) => sample.push_str(text),
            Segment::Wildcard { name: Some(name) } => {
                let value = sample_value(name);
                sample.push_str(&value);
                params.push(Param {
                    key: name.clone(),
                    named: true,
                    sample: value,
                });
            }
            Segment::Wildcard { name: None } => {
                let key = loop {
                    unnamed += 1;
                    let key = format!("wildcard{unnamed}");
                    if !used.contains(&key) {
                        break key;
                    }
                };
                // One digit (1-9), so the sample is never longer than the pattern
                // (whose length the parser bounds).
                let digit = char::from_digit((unnamed - 1) % 9 + 1, 10).unwrap_or('1');
                let value = digit.to_string();
                sample.push_str(&value);
                params.push(Param {
                    key,
                    named: false,
                    sample: value,
                });
            }
        }
    }
    Ok(ChannelShape {
        pattern: parsed,
        sample,
        params,
    })
}

/// A value for `{name}`: `42` for an id, else `name1` (shorter than `{name}`, so the
/// sample stays within the channel-name limit). Parameter names are channel
/// characters, so the value is a valid, `:`-free wildcard match.
fn sample_value(name: &str) -> String {
    if name.eq_ignore_ascii_case("id") || name.to_ascii_lowercase().ends_with("_id") {
        "42".to_owned()
    } else {
        format!("{name}1")
    }
}

impl ChannelShape {
    /// The channel name as a JavaScript expression over a `params` object:
    /// `` `receipt.${params.id}` ``, or `'global-chat'` for a pattern without wildcards.
    /// Channel characters need no escaping in either kind of literal.
    pub fn js_channel(&self) -> String {
        if self.params.is_empty() {
            return format!("'{}'", self.pattern.source());
        }
        let mut out = String::from("`");
        // `params` holds one entry per wildcard, in the segments' order.
        let mut params = self.params.iter();
        for segment in self.pattern.segments() {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Wildcard { .. } => {
                    if let Some(param) = params.next() {
                        out.push_str("${params.");
                        out.push_str(&param.key);
                        out.push('}');
                    }
                }
            }
        }
        out.push('`');
        out
    }

    /// The `params` object for the sample channel: `{ id: '42' }`.
    pub fn js_sample_params(&self) -> String {
        let fields: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}: '{}'", p.key, p.sample))
            .collect();
        format!("{{ {} }}", fields.join(", "))
    }

    /// The JSDoc type of `params`: `{id: string}`.
    pub fn js_params_type(&self) -> String {
        let fields: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}: string", p.key))
            .collect();
        format!("{{{}}}", fields.join(", "))
    }

    /// The first named parameter, for the `is_authorised` comment's example.
    pub fn first_named(&self) -> Option<&str> {
        self.params.iter().find(|p| p.named).map(|p| p.key.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use switchboard_pattern::{MAX_CHANNEL_LEN, validate_channel_name};

    #[test]
    fn receipt() {
        let shape = shape("receipt.{id}").unwrap();
        assert_eq!(shape.sample, "receipt.42");
        assert_eq!(shape.js_channel(), "`receipt.${params.id}`");
        assert_eq!(shape.js_sample_params(), "{ id: '42' }");
        assert_eq!(shape.js_params_type(), "{id: string}");
        assert_eq!(shape.first_named(), Some("id"));
    }

    #[test]
    fn samples_match_their_pattern() {
        for pattern in [
            "global-chat",
            "receipt.{id}",
            "user:chat.{user_id}",
            "room.{room}.msg.*",
            "a.*.b.*.{wildcard1}",
            "*",
            "{x}",
            "x@y=z,{a}-{b}",
            &"*.".repeat(MAX_CHANNEL_LEN / 2),
            &format!("{{{}}}", "n".repeat(MAX_CHANNEL_LEN - 2)),
        ] {
            let shape = shape(pattern).unwrap();
            assert_eq!(validate_channel_name(&shape.sample), Ok(()), "{pattern}");
            // It matches; how `{a}-{b}` splits `a1-b1` does not matter to the test,
            // which subscribes to the name, nor to the client, which builds it.
            assert!(
                shape.pattern.matches(&shape.sample).is_some(),
                "{pattern} must match {}",
                shape.sample
            );
        }
        let shape = shape("room.{room}.msg.*").unwrap();
        assert_eq!(shape.sample, "room.room1.msg.1");
        let captures = shape.pattern.matches(&shape.sample).unwrap();
        assert_eq!(captures.get("room"), Some("room1"));
    }

    #[test]
    fn unnamed_wildcards_get_unused_keys() {
        let shape = shape("a.*.b.*.{wildcard1}").unwrap();
        let keys: Vec<&str> = shape.params.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["wildcard2", "wildcard3", "wildcard1"]);
        assert_eq!(
            shape.js_channel(),
            "`a.${params.wildcard2}.b.${params.wildcard3}.${params.wildcard1}`"
        );
    }

    #[test]
    fn exact_pattern() {
        let shape = shape("global-chat").unwrap();
        assert_eq!(shape.sample, "global-chat");
        assert_eq!(shape.js_channel(), "'global-chat'");
        assert_eq!(shape.first_named(), None);
    }

    #[test]
    fn refusals_carry_the_parsers_message_and_a_caret() {
        let problem = shape("receipt.{1d}").unwrap_err();
        assert_eq!(
            problem.error,
            PatternError::BadParamName {
                name: "1d".into(),
                at: 8
            }
        );
        let message = problem.to_string();
        assert!(
            message.starts_with(
                "invalid channel pattern \"receipt.{1d}\": parameter name \"1d\" at byte 8"
            ),
            "{message}"
        );
        assert!(
            message.ends_with("\n    receipt.{1d}\n            ^"),
            "{message}"
        );

        // The caret counts characters (a non-ASCII character is always the error).
        let message = shape("ré.{id}").unwrap_err().to_string();
        assert!(message.ends_with("\n    ré.{id}\n     ^"), "{message}");

        // No position: no caret.
        let message = shape("").unwrap_err().to_string();
        assert_eq!(
            message,
            format!("invalid channel pattern \"\": {}", PatternError::Empty)
        );
        let message = shape("a.{id}.{id}").unwrap_err().to_string();
        assert!(!message.contains('^'), "{message}");
    }
}
