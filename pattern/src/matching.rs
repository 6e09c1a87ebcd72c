//! Matching a concrete channel name against a [`Pattern`].

use std::sync::Arc;

use crate::{Pattern, Segment};

/// The substrings captured by the wildcards of a [`Pattern`] on a successful
/// [`Pattern::matches`], in wildcard order. Unnamed (`*`) captures are only
/// reachable by position.
///
/// ```
/// use switchboard_pattern::Pattern;
///
/// let p = Pattern::parse("room.{id}.*")?;
/// let caps = p.matches("room.7.lobby").expect("matches");
/// assert_eq!(caps.len(), 2);
/// assert_eq!(caps.get("id"), Some("7"));
/// assert_eq!(caps.get_index(1), Some("lobby"));
/// assert_eq!(
///     caps.iter().collect::<Vec<_>>(),
///     [(Some("id"), "7"), (None, "lobby")]
/// );
/// # Ok::<(), switchboard_pattern::PatternError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captures<'n> {
    names: Arc<[Option<String>]>,
    values: Vec<&'n str>,
}

impl<'n> Captures<'n> {
    /// The value captured by the `{name}` wildcard.
    pub fn get(&self, name: &str) -> Option<&'n str> {
        let i = self.names.iter().position(|n| n.as_deref() == Some(name))?;
        self.get_index(i)
    }

    /// The value captured by the `i`-th wildcard (counting `*` and `{name}`).
    pub fn get_index(&self, i: usize) -> Option<&'n str> {
        self.values.get(i).copied()
    }

    /// The parameter name of the `i`-th wildcard; `None` for `*` or out of range.
    pub fn name_at(&self, i: usize) -> Option<&str> {
        self.names.get(i)?.as_deref()
    }

    /// Number of captures (= number of wildcards in the pattern).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no captures (the pattern is exact).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// All captures in wildcard order, each with its parameter name (`None` for `*`).
    pub fn iter(&self) -> impl Iterator<Item = (Option<&str>, &'n str)> + '_ {
        self.names
            .iter()
            .map(Option::as_deref)
            .zip(self.values.iter().copied())
    }

    /// The captured values in wildcard order.
    pub fn values(&self) -> &[&'n str] {
        &self.values
    }
}

impl Pattern {
    /// Match a concrete channel name; on success, the captures in wildcard order.
    ///
    /// Semantics are those of the anchored regex from [`Pattern::to_regex`]
    /// (greedy, leftmost-first): when a name can be split in several ways, each
    /// wildcard takes as much as it can, left to right. The name is not
    /// validated here (a wildcard accepts any character except `:`); call
    /// [`validate_channel_name`](crate::validate_channel_name) first where needed.
    ///
    /// ```
    /// use switchboard_pattern::Pattern;
    ///
    /// let p = Pattern::parse("user:chat.*")?;
    /// assert!(p.matches("user:chat.42").is_some());
    /// assert!(p.matches("user:chat.").is_none()); // wildcards are non-empty
    /// assert!(p.matches("user:chat.4:2").is_none()); // and never cross ':'
    ///
    /// let p = Pattern::parse("a.*.b.*")?;
    /// let caps = p.matches("a.x.b.b.y").expect("matches");
    /// // Greedy: the first wildcard takes "x.b", as the regex would.
    /// assert_eq!(caps.values(), ["x.b", "y"]);
    /// # Ok::<(), switchboard_pattern::PatternError>(())
    /// ```
    pub fn matches<'n>(&self, name: &'n str) -> Option<Captures<'n>> {
        let mut matcher = Matcher {
            segments: &self.segments,
            name: name.as_bytes(),
            spans: Vec::with_capacity(self.names.len()),
            failed: vec![false; self.names.len() * (name.len() + 1)],
        };
        if !matcher.match_from(0, 0) {
            return None;
        }
        // Wildcards start and end next to ASCII literals or at the ends of the
        // name, so every span is on a char boundary and `get` always succeeds.
        let values = matcher
            .spans
            .iter()
            .map(|&(start, end)| name.get(start..end))
            .collect::<Option<Vec<_>>>()?;
        Some(Captures {
            names: Arc::clone(&self.names),
            values,
        })
    }
}

/// Backtracking matcher, memoized so that it stays polynomial with many wildcards.
struct Matcher<'a> {
    segments: &'a [Segment],
    name: &'a [u8],
    /// Byte ranges captured by the wildcards matched so far.
    spans: Vec<(usize, usize)>,
    /// `failed[k * (name.len() + 1) + pos]`: the rest of the pattern, starting at
    /// the `k`-th wildcard, is known not to match `name[pos..]`.
    failed: Vec<bool>,
}

impl Matcher<'_> {
    /// Whether `segments[seg..]` matches `name[pos..]`; on success `spans` holds
    /// all captures, on failure it is as it was on entry.
    fn match_from(&mut self, seg: usize, pos: usize) -> bool {
        let rest = self.name.get(pos..).unwrap_or_default();
        match self.segments.get(seg) {
            None => rest.is_empty(),
            Some(Segment::Literal(text)) => {
                rest.starts_with(text.as_bytes()) && self.match_from(seg + 1, pos + text.len())
            }
            Some(Segment::Wildcard { .. }) => {
                let key = self.spans.len() * (self.name.len() + 1) + pos;
                if self.failed.get(key).copied().unwrap_or(false) {
                    return false;
                }
                // The longest run the wildcard can take stops at the next ':'.
                let longest = rest.iter().position(|&b| b == b':').unwrap_or(rest.len());
                // Greedy: try the longest run first, like a regex `[^:]+` would.
                for len in (1..=longest).rev() {
                    self.spans.push((pos, pos + len));
                    if self.match_from(seg + 1, pos + len) {
                        return true;
                    }
                    self.spans.pop();
                }
                if let Some(slot) = self.failed.get_mut(key) {
                    *slot = true;
                }
                false
            }
        }
    }
}

/// The winner among `patterns` for channel `name`: the matching pattern with the
/// highest [`rank`](Pattern::rank), with its captures.
///
/// Equal-rank ties cannot happen in a set without conflicts (see
/// [`find_conflicts`](crate::find_conflicts)); should one occur anyway, the
/// earlier pattern in `patterns` wins.
///
/// ```
/// use switchboard_pattern::{Pattern, best_match};
///
/// let chat = Pattern::parse("user:chat.*")?;
/// let user = Pattern::parse("user:*")?;
/// let (winner, caps) = best_match(&[&user, &chat], "user:chat.42").expect("a match");
/// assert_eq!(winner.source(), "user:chat.*");
/// assert_eq!(caps.values(), ["42"]);
/// assert_eq!(best_match(&[&user, &chat], "user:x").map(|(p, _)| p.source()), Some("user:*"));
/// assert!(best_match(&[&user, &chat], "room:1").is_none());
/// # Ok::<(), switchboard_pattern::PatternError>(())
/// ```
pub fn best_match<'a, 'n>(
    patterns: &[&'a Pattern],
    name: &'n str,
) -> Option<(&'a Pattern, Captures<'n>)> {
    let mut best: Option<(&'a Pattern, Captures<'n>)> = None;
    for &pattern in patterns {
        if best
            .as_ref()
            .is_some_and(|(b, _)| b.rank() >= pattern.rank())
        {
            continue;
        }
        if let Some(caps) = pattern.matches(name) {
            best = Some((pattern, caps));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::all_names;

    fn parse(s: &str) -> Pattern {
        Pattern::parse(s).expect("valid pattern")
    }

    fn values<'n>(pattern: &str, name: &'n str) -> Option<Vec<&'n str>> {
        parse(pattern).matches(name).map(|c| c.values().to_vec())
    }

    /// Straightforward exponential backtracking with greedy wildcards (longest
    /// first, like a backtracking regex engine), used as a reference.
    fn naive<'n>(segments: &[Segment], name: &'n str) -> Option<Vec<&'n str>> {
        let Some((first, rest)) = segments.split_first() else {
            return name.is_empty().then(Vec::new);
        };
        match first {
            Segment::Literal(text) => naive(rest, name.strip_prefix(text.as_str())?),
            Segment::Wildcard { .. } => {
                let ends: Vec<usize> = name
                    .char_indices()
                    .take_while(|&(_, c)| c != ':')
                    .map(|(i, c)| i + c.len_utf8())
                    .collect();
                ends.into_iter().rev().find_map(|end| {
                    let mut caps = naive(rest, &name[end..])?;
                    caps.insert(0, &name[..end]);
                    Some(caps)
                })
            }
        }
    }

    #[test]
    fn single_wildcard() {
        assert_eq!(values("user:chat.*", "user:chat.42"), Some(vec!["42"]));
        assert_eq!(values("user:chat.*", "user:chat."), None);
        assert_eq!(values("user:chat.*", "user:chat.4:2"), None);
        assert_eq!(values("user:chat.*", "user:chat"), None);
        assert_eq!(values("user:chat.*", "xuser:chat.42"), None);
        assert_eq!(values("room.*", "room.a.b"), Some(vec!["a.b"]));
        assert_eq!(values("*:chat", "user:chat"), Some(vec!["user"]));
        assert_eq!(values("*:chat", ":chat"), None);
        assert_eq!(
            values("*", "anything-goes.here"),
            Some(vec!["anything-goes.here"])
        );
        assert_eq!(values("*", "a:b"), None);
    }

    #[test]
    fn exact_patterns() {
        let p = parse("global-chat");
        let caps = p.matches("global-chat").expect("exact match");
        assert!(caps.is_empty());
        assert_eq!(caps.iter().count(), 0);
        assert!(p.matches("global-chat2").is_none());
        assert!(p.matches("global-cha").is_none());
        assert!(p.matches("").is_none());
    }

    #[test]
    fn several_wildcards_backtrack() {
        // Greedy like `^a\.([^:]+)\.b\.([^:]+)$`: the first wildcard takes "x.b",
        // leaving ".b.y" for "\.b\.([^:]+)". Not ("x", "b.y").
        assert_eq!(values("a.*.b.*", "a.x.b.b.y"), Some(vec!["x.b", "y"]));
        assert_eq!(values("a.*.b.*", "a.x.b.y.b.z"), Some(vec!["x.b.y", "z"]));
        assert_eq!(values("a.*.b.*", "a.x.b."), None);
        assert_eq!(values("*.*", "a.b.c"), Some(vec!["a.b", "c"]));
        assert_eq!(values("*:*.x", "u:v.x.x"), Some(vec!["u", "v.x"]));
        assert_eq!(values("*:*.x", "u:v:w.x"), None);
        assert_eq!(
            values("{a}.{b}:{c}", "1.2.3:4"),
            Some(vec!["1.2", "3", "4"])
        );
    }

    #[test]
    fn captures_by_name_and_position() {
        let p = parse("a.{x}.b.*.{y}");
        let caps = p.matches("a.1.b.2.3").expect("matches");
        assert_eq!(caps.len(), 3);
        assert_eq!(caps.get("x"), Some("1"));
        assert_eq!(caps.get("y"), Some("3"));
        assert_eq!(caps.get("z"), None);
        assert_eq!(caps.get_index(1), Some("2"));
        assert_eq!(caps.get_index(3), None);
        assert_eq!(caps.name_at(0), Some("x"));
        assert_eq!(caps.name_at(1), None);
        assert_eq!(
            caps.iter().collect::<Vec<_>>(),
            [(Some("x"), "1"), (None, "2"), (Some("y"), "3")]
        );
    }

    #[test]
    fn non_ascii_names_split_on_char_boundaries() {
        // Not valid channel names, but matching must neither panic nor split chars.
        assert_eq!(values("a.*.b", "a.é😀.b"), Some(vec!["é😀"]));
        assert_eq!(values("*.*", "é.😀"), Some(vec!["é", "😀"]));
    }

    #[test]
    fn agrees_with_naive_greedy_matcher() {
        let cases = [
            ("a.*.b.*", "a.x.b.b.y"),
            ("a.*.b.*", "a.b.b.b.b"),
            ("a.*.b.*", "a..b.b..b."),
            ("*.*", "a.b.c.d"),
            ("*.*.*", "a.b.c.d"),
            ("*.*.*", "a..b"),
            ("{x}-{y}", "a-b-c-d"),
            ("*:*", "a:b:c"),
            ("*a*a", "aaaaaa"),
            ("x*x*x", "xxxxxxx"),
            ("x*x*x", "xx"),
            ("a:*.*:b", "a:1.2.3:b"),
        ];
        for (pattern, name) in cases {
            let p = parse(pattern);
            assert_eq!(
                p.matches(name).map(|c| c.values().to_vec()),
                naive(p.segments(), name),
                "{pattern} on {name}"
            );
        }
        // Exhaustively on small names, too.
        let patterns = ["*a*a", "a*.*", "*.*:*", "*..*", ".*.", "*a.*a*"];
        for pattern in patterns {
            let p = parse(pattern);
            for name in all_names(b"a.:", 7) {
                assert_eq!(
                    p.matches(&name).map(|c| c.values().to_vec()),
                    naive(p.segments(), &name),
                    "{pattern} on {name}"
                );
            }
        }
    }

    #[test]
    fn many_wildcards_stay_fast() {
        // Exponential without memoization: 20 wildcards, no match possible.
        let pattern = "a.".to_owned() + &"*.".repeat(20) + "z";
        let name = "a.".to_owned() + &"b.".repeat(60) + "y";
        assert!(parse(&pattern).matches(&name).is_none());
    }

    #[test]
    fn best_match_by_rank() {
        let chat = parse("user:chat.*");
        let user = parse("user:*");
        let exact = parse("user:chat.42");
        assert_eq!(chat.rank(), 10);
        assert_eq!(user.rank(), 5);
        let all = [&user, &chat, &exact];
        let pick = |name| best_match(&all, name).map(|(p, _)| p.source());
        assert_eq!(pick("user:chat.42"), Some("user:chat.42"));
        assert_eq!(pick("user:chat.7"), Some("user:chat.*"));
        assert_eq!(pick("user:bob"), Some("user:*"));
        assert_eq!(pick("user:a:b"), None);
        assert!(best_match(&[], "x").is_none());
    }
}
