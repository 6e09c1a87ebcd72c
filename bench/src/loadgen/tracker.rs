//! One subscriber's record of what arrived: lost, duplicated, reordered, misrouted.
//!
//! Broadcast deliveries are recorded in a bitmap per publisher (a bit per sequence
//! number: 1.3 KiB per subscriber per 10,000 messages), so counting what is missing
//! at the end is a popcount, and recording one is a shift and an `or`. Routed
//! deliveries are sparse (each subscriber gets a few of millions of numbers), so they
//! go to a set instead.

use std::collections::HashSet;

use crate::payload::{self, Stamp};

/// Sequence numbers at or above this are garbage, not a real publisher's: it bounds a
/// bitmap at 8 MiB whatever a corrupt frame says.
const MAX_SEQ: u64 = 1 << 26;

/// Which messages a subscriber should receive.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// Every message of every publisher (a broadcast channel).
    All,
    /// Only those routed to subscriber `index` of `of` ([`payload::route_target`]).
    Routed {
        /// This subscriber's index.
        index: usize,
        /// How many subscribers the publishers route among.
        of: usize,
    },
}

/// What one subscriber has from one publisher.
#[derive(Debug, Default)]
struct FromPublisher {
    /// Broadcast: a bit per sequence number received.
    bits: Vec<u64>,
    /// The highest sequence number received so far.
    highest: Option<u64>,
    /// Deliveries received from it, duplicates included (for the window).
    count: u64,
}

/// What one subscriber received.
#[derive(Debug)]
pub struct Tracker {
    expect: Expect,
    publishers: Vec<FromPublisher>,
    /// Routed: the (publisher, seq) pairs received.
    routed: HashSet<(u32, u64)>,
    /// Messages received more than once.
    pub duplicated: u64,
    /// Messages received, for the first time, after a higher sequence number of the same
    /// publisher had already arrived (a duplicate is counted as a duplicate only).
    pub reordered: u64,
    /// Messages meant for another subscriber, or from no known publisher.
    pub misrouted: u64,
    /// [`payload::now_ns`] of the last message received.
    pub last_at_ns: u64,
}

impl Tracker {
    /// An empty record for a run with `publishers` publishers.
    pub fn new(expect: Expect, publishers: usize) -> Self {
        Self {
            expect,
            publishers: (0..publishers).map(|_| FromPublisher::default()).collect(),
            routed: HashSet::new(),
            duplicated: 0,
            reordered: 0,
            misrouted: 0,
            last_at_ns: 0,
        }
    }

    /// Records one message received at `now_ns`; returns how many deliveries this
    /// subscriber has now had from its publisher (0 for a message from nobody known).
    pub fn record(&mut self, stamp: Stamp, now_ns: u64) -> u64 {
        self.last_at_ns = now_ns;
        let Some(from) = self
            .publishers
            .get_mut(stamp.publisher as usize)
            .filter(|_| stamp.seq < MAX_SEQ)
        else {
            self.misrouted += 1;
            return 0;
        };
        from.count += 1;
        let fresh = match self.expect {
            Expect::All => {
                let (word, bit) = ((stamp.seq / 64) as usize, stamp.seq % 64);
                if from.bits.len() <= word {
                    from.bits.resize((word + 1).next_power_of_two(), 0);
                }
                let fresh = from.bits[word] & (1 << bit) == 0;
                from.bits[word] |= 1 << bit;
                fresh
            }
            Expect::Routed { index, of } => {
                if payload::route_target(stamp.publisher, stamp.seq, of) != index {
                    self.misrouted += 1;
                }
                self.routed.insert((stamp.publisher, stamp.seq))
            }
        };
        if !fresh {
            self.duplicated += 1;
        } else if from.highest.is_some_and(|highest| stamp.seq < highest) {
            self.reordered += 1;
        }
        from.highest = from.highest.max(Some(stamp.seq));
        from.count
    }

    /// Distinct messages received that were meant for this subscriber, out of what
    /// publishers sent (`sent[p]` messages by publisher `p`, numbered from 0).
    pub fn received_expected(&self, sent: &[u64]) -> u64 {
        match self.expect {
            Expect::All => sent
                .iter()
                .zip(&self.publishers)
                .map(|(&count, from)| {
                    let full = (count / 64) as usize;
                    let whole: u64 = from
                        .bits
                        .iter()
                        .take(full)
                        .map(|w| u64::from(w.count_ones()))
                        .sum();
                    let rest = count % 64;
                    let partial = match from.bits.get(full) {
                        Some(w) if rest > 0 => u64::from((w & ((1u64 << rest) - 1)).count_ones()),
                        _ => 0,
                    };
                    whole + partial
                })
                .sum(),
            Expect::Routed { index, of } => self
                .routed
                .iter()
                .filter(|&&(p, seq)| {
                    sent.get(p as usize).is_some_and(|&count| seq < count)
                        && payload::route_target(p, seq, of) == index
                })
                .count() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(publisher: u32, seq: u64) -> Stamp {
        Stamp {
            publisher,
            seq,
            sent_at_ns: 0,
        }
    }

    #[test]
    fn broadcast_counts_distinct_and_duplicates() {
        let mut t = Tracker::new(Expect::All, 2);
        for seq in [0, 1, 2, 2, 70, 99] {
            t.record(stamp(0, seq), 1000);
        }
        assert_eq!(t.record(stamp(1, 5), 1000), 1);
        assert_eq!(t.duplicated, 1);
        assert_eq!(t.reordered, 0);
        // Publisher 0 sent 100, publisher 1 sent 10: 5 + 1 received of 110.
        assert_eq!(t.received_expected(&[100, 10]), 6);
        // Numbers past what was sent do not count.
        assert_eq!(t.received_expected(&[71, 0]), 4);
    }

    #[test]
    fn reordering_is_per_publisher_and_counted_once() {
        let mut t = Tracker::new(Expect::All, 2);
        for (publisher, seq) in [(0, 0), (0, 2), (1, 0), (0, 1), (0, 3), (1, 1), (0, 1)] {
            t.record(stamp(publisher, seq), 0);
        }
        // 1 after 2 from publisher 0 is reordered; the second 1 is a duplicate only.
        assert_eq!(t.reordered, 1);
        assert_eq!(t.duplicated, 1);
        assert_eq!(t.received_expected(&[4, 2]), 6);
    }

    #[test]
    fn garbage_is_misrouted_not_stored() {
        let mut t = Tracker::new(Expect::All, 1);
        assert_eq!(t.record(stamp(7, 0), 0), 0);
        assert_eq!(t.record(stamp(0, u64::MAX), 0), 0);
        assert_eq!(t.misrouted, 2);
        assert_eq!(t.received_expected(&[1]), 0);
    }

    #[test]
    fn routed_counts_only_its_own() {
        let of = 4;
        let mine: Vec<u64> = (0..100)
            .filter(|&s| payload::route_target(0, s, of) == 2)
            .collect();
        let other = (0..100)
            .find(|&s| payload::route_target(0, s, of) != 2)
            .expect("some");
        let mut t = Tracker::new(Expect::Routed { index: 2, of }, 1);
        for &seq in &mine {
            t.record(stamp(0, seq), 0);
        }
        t.record(stamp(0, mine[0]), 0);
        t.record(stamp(0, other), 0);
        assert_eq!(t.duplicated, 1);
        assert_eq!(t.misrouted, 1);
        assert_eq!(t.received_expected(&[100]), mine.len() as u64);
    }
}
