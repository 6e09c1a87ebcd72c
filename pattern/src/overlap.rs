//! Whether two patterns can match the same channel name, and conflict detection.

use crate::{MAX_CHANNEL_LEN, Pattern, Segment};

/// A pattern flattened to one token per literal byte or wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Byte(u8),
    /// `[^:]+`
    Wild,
}

fn tokens(pattern: &Pattern) -> Vec<Token> {
    let mut out = Vec::with_capacity(pattern.source.len());
    for segment in &pattern.segments {
        match segment {
            Segment::Literal(text) => out.extend(text.bytes().map(Token::Byte)),
            Segment::Wildcard { .. } => out.push(Token::Wild),
        }
    }
    out
}

/// Any character a wildcard may take, used when both sides are inside a wildcard.
const FILLER: u8 = b'x';

impl Pattern {
    /// Whether some valid channel name (at most [`MAX_CHANNEL_LEN`] bytes) is
    /// matched by both patterns.
    ///
    /// ```
    /// use switchboard_pattern::Pattern;
    ///
    /// let p = |s| Pattern::parse(s).expect("valid");
    /// assert!(p("user:*").overlaps(&p("*:chat"))); // e.g. `user:chat`
    /// assert!(!p("a.*").overlaps(&p("b.*")));
    /// assert!(!p("x:*").overlaps(&p("x"))); // wildcards are non-empty
    /// assert!(!p("a*").overlaps(&p("a:b"))); // and never take ':'
    /// ```
    pub fn overlaps(&self, other: &Pattern) -> bool {
        self.shortest_common_name(other).is_some()
    }

    /// A shortest channel name matched by both patterns, if there is one of at
    /// most [`MAX_CHANNEL_LEN`] bytes. Useful as an example in error messages.
    ///
    /// ```
    /// use switchboard_pattern::Pattern;
    ///
    /// let p = |s| Pattern::parse(s).expect("valid");
    /// assert_eq!(p("*:b").shortest_common_name(&p("a:*")).as_deref(), Some("a:b"));
    /// assert_eq!(p("a.*").shortest_common_name(&p("b.*")), None);
    /// ```
    pub fn shortest_common_name(&self, other: &Pattern) -> Option<String> {
        // Product automaton, searched breadth-first.
        //
        // A token list is an NFA over the name: state `i` means "tokens[..i] are
        // done". At a `Byte(c)` the only move is consuming `c` (to `i + 1`). At a
        // `Wild` the move consumes one non-':' character and either stays at `i`
        // (the wildcard takes more characters: at least one more is then needed)
        // or goes to `i + 1` (the wildcard is complete). Since every visit to a
        // wildcard's state consumes a character before leaving, the "non-empty"
        // rule needs no extra flag.
        //
        // State `(i, j)` pairs the positions in `a` and `b`; each step consumes
        // the same character on both sides, so BFS depth = name length, the
        // first time `(a.len(), b.len())` is reached gives a shortest common
        // name, and stopping at depth `MAX_CHANNEL_LEN` enforces the length limit.
        // The moves are listed in `step`. There are at most 201 * 201 states.
        let a = tokens(self);
        let b = tokens(other);
        let width = b.len() + 1;
        let state = |i: usize, j: usize| i * width + j;
        let goal = state(a.len(), b.len());

        // `parent[s]`: the state BFS came from and the character consumed.
        let mut parent: Vec<Option<(usize, u8)>> = vec![None; (a.len() + 1) * width];
        let mut seen = vec![false; parent.len()];
        seen[0] = true;
        let mut frontier = vec![(0, 0)];

        for _depth in 0..MAX_CHANNEL_LEN {
            let mut next = Vec::new();
            for &(i, j) in &frontier {
                let from = state(i, j);
                let Some((c, advances)) = step(a.get(i).copied(), b.get(j).copied()) else {
                    continue;
                };
                for &(di, dj) in advances {
                    let (ni, nj) = (i + di, j + dj);
                    let to = state(ni, nj);
                    if seen[to] {
                        continue;
                    }
                    seen[to] = true;
                    parent[to] = Some((from, c));
                    if to == goal {
                        return Some(path_to(&parent, goal));
                    }
                    next.push((ni, nj));
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        None
    }

    /// Whether both patterns are the same apart from parameter names (so they
    /// match exactly the same channels), e.g. `a.{x}` and `a.*`.
    ///
    /// ```
    /// use switchboard_pattern::Pattern;
    ///
    /// let p = |s| Pattern::parse(s).expect("valid");
    /// assert!(p("a.{x}").is_duplicate_of(&p("a.*")));
    /// assert!(!p("a.*").is_duplicate_of(&p("a.*.b")));
    /// ```
    pub fn is_duplicate_of(&self, other: &Pattern) -> bool {
        self.segments.len() == other.segments.len()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|pair| match pair {
                    (Segment::Literal(x), Segment::Literal(y)) => x == y,
                    (Segment::Wildcard { .. }, Segment::Wildcard { .. }) => true,
                    _ => false,
                })
    }
}

/// The product automaton's moves from positions holding tokens `a` and `b`:
/// the character both consume, and the possible `(di, dj)` advances. `None`
/// when no common character exists or one side is already complete.
fn step(a: Option<Token>, b: Option<Token>) -> Option<(u8, &'static [(usize, usize)])> {
    match (a?, b?) {
        (Token::Byte(x), Token::Byte(y)) if x == y => Some((x, &[(1, 1)])),
        // The wildcard takes the literal's byte, and then needs more or is done.
        (Token::Byte(x), Token::Wild) if x != b':' => Some((x, &[(1, 0), (1, 1)])),
        (Token::Wild, Token::Byte(y)) if y != b':' => Some((y, &[(0, 1), (1, 1)])),
        (Token::Wild, Token::Wild) => Some((FILLER, &[(0, 0), (0, 1), (1, 0), (1, 1)])),
        _ => None,
    }
}

/// The characters consumed on the BFS path from the start state to `goal`.
fn path_to(parent: &[Option<(usize, u8)>], goal: usize) -> String {
    let mut bytes = Vec::new();
    let mut at = goal;
    while let Some(&Some((from, c))) = parent.get(at) {
        bytes.push(c);
        at = from;
    }
    bytes.iter().rev().map(|&b| char::from(b)).collect()
}

/// Every pair of patterns that must be refused together: duplicates (same
/// pattern modulo parameter names, see [`Pattern::is_duplicate_of`]) and pairs
/// with equal [`rank`](Pattern::rank) that [overlap](Pattern::overlaps), for
/// which no winner could be picked. Pairs are reported in input order.
///
/// ```
/// use switchboard_pattern::{Pattern, find_conflicts};
///
/// let p = |s| Pattern::parse(s).expect("valid");
/// let (a, b, c, d) = (p("*:b"), p("a:*"), p("room.*"), p("room.*.x"));
/// // `a:b` matches both `*:b` and `a:*`, both of rank 2.
/// let conflicts = find_conflicts(&[&a, &b, &c, &d]);
/// assert_eq!(conflicts, [(&a, &b)]);
/// ```
pub fn find_conflicts<'a>(patterns: &[&'a Pattern]) -> Vec<(&'a Pattern, &'a Pattern)> {
    let mut out = Vec::new();
    for (k, &x) in patterns.iter().enumerate() {
        for &y in &patterns[k + 1..] {
            // Rank is cheap; only equal-rank pairs need the overlap search.
            if x.rank() == y.rank() && (x.is_duplicate_of(y) || x.overlaps(y)) {
                out.push((x, y));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::all_names;

    fn parse(s: &str) -> Pattern {
        Pattern::parse(s).expect("valid pattern")
    }

    fn overlap(x: &str, y: &str) -> bool {
        let (x, y) = (parse(x), parse(y));
        let forward = x.overlaps(&y);
        assert_eq!(forward, y.overlaps(&x), "overlap must be symmetric");
        forward
    }

    #[test]
    fn overlap_cases() {
        assert!(overlap("user:*", "*:chat"));
        assert!(!overlap("a.*", "b.*"));
        assert!(overlap("a.*", "*.b"));
        assert!(!overlap("x:*", "x"));
        assert!(overlap("a.*", "a.{id}"));
        assert!(overlap("*:b", "a:*"));
        assert!(overlap("room.*", "room.*.x"));
        assert!(!overlap("a*", "a:b"));
        assert!(!overlap("*", "a:b"));
        assert!(overlap("*", "a.b"));
        assert!(overlap("*:*", "a:b"));
        assert!(!overlap("*:*", "*:*:*"));
        assert!(overlap("global-chat", "global-chat"));
        assert!(!overlap("global-chat", "global-chat2"));
        assert!(overlap("*.*", "a*"));
        assert!(!overlap("a.*", "a."));
    }

    #[test]
    fn witness_names() {
        let name = |x: &str, y: &str| parse(x).shortest_common_name(&parse(y));
        assert_eq!(name("user:*", "*:chat").as_deref(), Some("user:chat"));
        assert_eq!(name("a.*", "*.b").as_deref(), Some("a.b"));
        assert_eq!(name("*", "*").as_deref(), Some("x"));
        assert_eq!(name("room.*", "room.*.x").map(|n| n.len()), Some(8));
    }

    #[test]
    fn overlap_respects_name_length_limit() {
        // Any common name starts with 100 'a's and ends with 100 'b's: 200 bytes fit...
        let a = parse(&("a".repeat(100) + "*"));
        let b = parse(&("*".to_owned() + &"b".repeat(100)));
        let name = a.shortest_common_name(&b).expect("200-byte name exists");
        assert_eq!(name.len(), MAX_CHANNEL_LEN);
        assert!(crate::validate_channel_name(&name).is_ok());
        // ...but 101 + 100 bytes do not.
        let a = parse(&("a".repeat(101) + "*"));
        assert!(!a.overlaps(&b));
    }

    #[test]
    fn duplicates() {
        assert!(parse("a.*").is_duplicate_of(&parse("a.{id}")));
        assert!(parse("{x}:{y}").is_duplicate_of(&parse("*:{z}")));
        assert!(!parse("a.*").is_duplicate_of(&parse("a.*.b")));
        assert!(!parse("a.*").is_duplicate_of(&parse("b.*")));
        assert!(!parse("*.a").is_duplicate_of(&parse("a.*")));
    }

    #[test]
    fn conflicts() {
        let dup = (parse("a.*"), parse("a.{id}"));
        assert_eq!(find_conflicts(&[&dup.0, &dup.1]), [(&dup.0, &dup.1)]);

        let same_rank = (parse("*:b"), parse("a:*"));
        assert_eq!(same_rank.0.rank(), 2);
        assert_eq!(same_rank.1.rank(), 2);
        assert_eq!(
            find_conflicts(&[&same_rank.0, &same_rank.1]),
            [(&same_rank.0, &same_rank.1)]
        );

        // Overlapping with different ranks: the longer literal wins, no conflict.
        let ranked = (parse("room.*"), parse("room.*.x"));
        assert!(ranked.0.overlaps(&ranked.1));
        assert!(find_conflicts(&[&ranked.0, &ranked.1]).is_empty());

        // Equal rank without overlap: fine.
        let disjoint = (parse("a.*"), parse("b.*"));
        assert!(find_conflicts(&[&disjoint.0, &disjoint.1]).is_empty());

        let chat = parse("user:chat.*");
        let user = parse("user:*");
        let global = parse("global-chat");
        assert!(find_conflicts(&[&chat, &user, &global, &ranked.0, &ranked.1]).is_empty());
        assert!(find_conflicts(&[]).is_empty());
    }

    #[test]
    fn conflicts_report_all_pairs_in_order() {
        let ps = [parse("*.b"), parse("a.*"), parse("{x}.b"), parse("c")];
        let refs: Vec<&Pattern> = ps.iter().collect();
        let found: Vec<(&str, &str)> = find_conflicts(&refs)
            .into_iter()
            .map(|(x, y)| (x.source(), y.source()))
            .collect();
        assert_eq!(found, [("*.b", "a.*"), ("*.b", "{x}.b"), ("a.*", "{x}.b")]);
    }

    /// `overlaps` and `shortest_common_name` agree with enumerating every name
    /// over a small alphabet.
    #[test]
    fn overlap_agrees_with_brute_force() {
        let sources = [
            "a", "a.a", "*", "a*", "*a", "a.*", "*.a", "*:*", "a:*", "*:a", "*.*", "a*a", ":*",
            "*:", "a.*.a", "*.a.*", "a:a", ".", "*a*", "a:*.*",
        ];
        let patterns: Vec<Pattern> = sources.iter().map(|s| parse(s)).collect();
        let names = all_names(b"a.:", 8);
        // For each pattern, which names it matches.
        let matched: Vec<Vec<bool>> = patterns
            .iter()
            .map(|p| names.iter().map(|n| p.matches(n).is_some()).collect())
            .collect();
        for (x, px) in patterns.iter().enumerate() {
            for (y, py) in patterns.iter().enumerate() {
                let shortest = (0..names.len())
                    .filter(|&k| matched[x][k] && matched[y][k])
                    .map(|k| names[k].len())
                    .min();
                let witness = px.shortest_common_name(py);
                assert_eq!(px.overlaps(py), shortest.is_some(), "{px} vs {py}");
                assert_eq!(witness.as_ref().map(String::len), shortest, "{px} vs {py}");
                if let Some(w) = witness {
                    assert!(px.matches(&w).is_some() && py.matches(&w).is_some(), "{w}");
                    assert!(crate::validate_channel_name(&w).is_ok(), "{w}");
                }
            }
        }
    }
}
