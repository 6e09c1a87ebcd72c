//! A subscriber's receive loop and its record of what arrived.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::client::Ws;
use crate::payload::{self, PING, PONG, Stamp};

/// What every subscriber adds to while the run goes on.
#[derive(Debug, Default)]
pub struct Shared {
    /// Messages received by subscribers, duplicates included.
    pub delivered: AtomicU64,
    /// Messages sent by publishers.
    pub sent: AtomicU64,
    /// Subscribers whose connection ended before the run did.
    pub closed_early: AtomicU64,
}

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

/// What one subscriber received.
#[derive(Debug)]
pub struct Tracker {
    expect: Expect,
    /// Broadcast: per publisher, a bit per sequence number received.
    seen: Vec<Vec<u64>>,
    /// Routed: the (publisher, seq) pairs received.
    routed: HashSet<(u32, u64)>,
    /// Publish-to-receive latencies, in microseconds.
    pub latencies_us: Vec<u32>,
    /// Messages received more than once.
    pub duplicated: u64,
    /// Routed messages meant for another subscriber.
    pub misrouted: u64,
    /// [`payload::now_ns`] of the last message received.
    pub last_at_ns: u64,
}

impl Tracker {
    /// An empty record.
    pub fn new(expect: Expect) -> Self {
        Self {
            expect,
            seen: Vec::new(),
            routed: HashSet::new(),
            latencies_us: Vec::new(),
            duplicated: 0,
            misrouted: 0,
            last_at_ns: 0,
        }
    }

    /// Records one message received at `now_ns`.
    pub fn record(&mut self, stamp: Stamp, now_ns: u64) {
        let latency_us = now_ns.saturating_sub(stamp.sent_at_ns) / 1000;
        self.latencies_us
            .push(u32::try_from(latency_us).unwrap_or(u32::MAX));
        self.last_at_ns = now_ns;
        let fresh = match self.expect {
            Expect::All => {
                let publisher = stamp.publisher as usize;
                if self.seen.len() <= publisher {
                    self.seen.resize_with(publisher + 1, Vec::new);
                }
                let bits = &mut self.seen[publisher];
                let (word, bit) = ((stamp.seq / 64) as usize, stamp.seq % 64);
                if bits.len() <= word {
                    bits.resize(word + 1, 0);
                }
                let fresh = bits[word] & (1 << bit) == 0;
                bits[word] |= 1 << bit;
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
        }
    }

    /// Distinct messages received that were meant for this subscriber, out of what
    /// publishers sent (`sent[p]` messages by publisher `p`, numbered from 0).
    pub fn received_expected(&self, sent: &[u64]) -> u64 {
        match self.expect {
            Expect::All => sent
                .iter()
                .enumerate()
                .map(|(p, &count)| {
                    let Some(bits) = self.seen.get(p) else {
                        return 0;
                    };
                    let full = (count / 64) as usize;
                    let whole: u64 = bits
                        .iter()
                        .take(full)
                        .map(|w| u64::from(w.count_ones()))
                        .sum();
                    let rest = count % 64;
                    let partial = match bits.get(full) {
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

/// Receives until `stop` turns true or the connection ends, answering heartbeats.
pub async fn receive(
    mut ws: Ws,
    mut tracker: Tracker,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> Tracker {
    loop {
        let frame = tokio::select! {
            biased;
            _ = stop.changed() => break,
            frame = ws.next() => frame,
        };
        match frame {
            Some(Ok(Message::Text(text))) => {
                if let Some(stamp) = payload::read_stamp(&text) {
                    tracker.record(stamp, payload::now_ns());
                    shared.delivered.fetch_add(1, Ordering::Relaxed);
                } else if text.as_str() == PING && ws.send(Message::text(PONG)).await.is_err() {
                    shared.closed_early.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => {
                shared.closed_early.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
    }
    tracker
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
        let mut t = Tracker::new(Expect::All);
        for seq in [0, 1, 2, 2, 70, 99] {
            t.record(stamp(0, seq), 1000);
        }
        t.record(stamp(1, 5), 1000);
        assert_eq!(t.duplicated, 1);
        // Publisher 0 sent 100, publisher 1 sent 10: 5 + 1 received of 110.
        assert_eq!(t.received_expected(&[100, 10]), 6);
        // Numbers past what was sent do not count.
        assert_eq!(t.received_expected(&[71, 0]), 4);
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
        let mut t = Tracker::new(Expect::Routed { index: 2, of });
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
