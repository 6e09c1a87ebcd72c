//! Channel patterns as TypeScript template literal types: `room.{id}` is
//! `` `room.${string}` ``, so `'room.42'` is a name of it and `'rooms'` is not.
//!
//! `${string}` is looser than a wildcard (it matches the empty string and `:`), so
//! the types accept a few names the server refuses, never the reverse. Where two
//! patterns match a name the server picks the one with more literal text; the types
//! say so with `shadowedBy`, the names of the more specific patterns that overlap.

use switchboard_pattern::{Pattern, Segment};

/// The names `pattern` matches, as a TypeScript type.
///
/// Channel names hold only `[A-Za-z0-9_.:@=,-]`, none of which a template literal
/// needs escaped.
pub(crate) fn template_literal(pattern: &Pattern) -> String {
    let mut out = String::from("`");
    for segment in pattern.segments() {
        match segment {
            Segment::Literal(text) => out.push_str(text),
            Segment::Wildcard { .. } => out.push_str("${string}"),
        }
    }
    out.push('`');
    out
}

/// The names of the patterns among `all` that win over `pattern` where both match
/// (more literal text), as a union type; `never` when there are none.
pub(crate) fn shadowed_by(pattern: &Pattern, all: &[Pattern]) -> String {
    let winners: Vec<String> = all
        .iter()
        .filter(|other| other.rank() > pattern.rank() && other.overlaps(pattern))
        .map(template_literal)
        .collect();
    if winners.is_empty() {
        "never".to_owned()
    } else {
        winners.join(" | ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(source: &str) -> Pattern {
        Pattern::parse(source).expect("a valid pattern")
    }

    #[test]
    fn literals_stay_and_wildcards_become_strings() {
        assert_eq!(template_literal(&pattern("global-chat")), "`global-chat`");
        assert_eq!(template_literal(&pattern("room.{id}")), "`room.${string}`");
        assert_eq!(
            template_literal(&pattern("user:chat.*")),
            "`user:chat.${string}`"
        );
        assert_eq!(
            template_literal(&pattern("a.{x}.b.*.{y}")),
            "`a.${string}.b.${string}.${string}`"
        );
        assert_eq!(template_literal(&pattern("*")), "`${string}`");
    }

    #[test]
    fn more_specific_overlapping_patterns_shadow() {
        let all = [
            pattern("user:*"),
            pattern("user:chat.{id}"),
            pattern("room.{id}"),
            pattern("user:chat.admin"),
        ];
        assert_eq!(
            shadowed_by(&all[0], &all),
            "`user:chat.${string}` | `user:chat.admin`"
        );
        assert_eq!(shadowed_by(&all[1], &all), "`user:chat.admin`");
        assert_eq!(shadowed_by(&all[2], &all), "never");
        assert_eq!(shadowed_by(&all[3], &all), "never");
    }
}
