//! "At most W messages in flight to the slowest subscriber", cheaply.
//!
//! A publisher may send its message `s` only once every subscriber has received `s - W`
//! (more exactly: at least `s - W + 1` of its messages). Asking each of 5,000
//! subscribers per message would cost more than the deliveries; instead each publisher
//! has a small ring of counters, one per block of `B` messages: a subscriber adds one
//! to block `j`'s counter when it has received `(j + 1) x B` messages from that
//! publisher (one atomic add per `B` deliveries), and block `j` is done when the
//! counter reaches the number of subscribers. The publisher checks the one block its
//! next message waits for. Counters are never reset: slot `j mod R` serves blocks `j`,
//! `j + R`, ... and block `j` is done at `(j / R + 1) x subscribers`; with `R x B > W`
//! no subscriber can reach block `j + R` before block `j` is done everywhere.
//!
//! Being block-grained, the window is between `W - B + 1` and `W` messages, never more.

use std::sync::atomic::{AtomicU64, Ordering};

/// Pacing state shared by the publishers and subscribers of one run.
#[derive(Debug)]
pub struct Window {
    /// Messages one publisher may have in flight to the slowest subscriber.
    messages: u64,
    /// Messages per block.
    block: u64,
    /// Per publisher, a ring of block counters.
    rings: Vec<Box<[AtomicU64]>>,
    /// Subscribers that must have a block before it is done.
    subscribers: AtomicU64,
}

impl Window {
    /// A window of `messages` (at least 1) for each of `publishers`.
    pub fn new(messages: usize, publishers: usize) -> Self {
        let messages = messages.max(1) as u64;
        let block = (messages / 8).max(1);
        let slots = messages / block + 2;
        Self {
            messages,
            block,
            rings: (0..publishers)
                .map(|_| (0..slots).map(|_| AtomicU64::new(0)).collect())
                .collect(),
            subscribers: AtomicU64::new(0),
        }
    }

    /// Sets how many subscribers every message must reach (before publishing starts).
    pub fn set_subscribers(&self, subscribers: usize) {
        self.subscribers
            .store(subscribers as u64, Ordering::Relaxed);
    }

    /// A subscriber has now received `count` messages from `publisher`.
    pub fn received(&self, publisher: u32, count: u64) {
        if count == 0 || !count.is_multiple_of(self.block) {
            return;
        }
        if let Some(ring) = self.rings.get(publisher as usize) {
            let block = count / self.block - 1;
            ring[(block % ring.len() as u64) as usize].fetch_add(1, Ordering::Release);
        }
    }

    /// True when `publisher` may send its message `seq`.
    pub fn may_send(&self, publisher: u32, seq: u64) -> bool {
        if seq < self.messages {
            return true;
        }
        let Some(ring) = self.rings.get(publisher as usize) else {
            return true;
        };
        let need = seq - self.messages + 1; // messages every subscriber must have
        let block = need.div_ceil(self.block) - 1;
        let slots = ring.len() as u64;
        let done_at = (block / slots + 1) * self.subscribers.load(Ordering::Relaxed);
        ring[(block % slots) as usize].load(Ordering::Acquire) >= done_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two subscribers, one of them slow: the publisher never gets more than the window
    /// ahead of the slow one, and the ring's slots are reused many times.
    #[test]
    fn the_slowest_subscriber_bounds_the_publisher() {
        let window = Window::new(16, 1);
        window.set_subscribers(2);
        let (mut fast, mut slow, mut sent) = (0u64, 0u64, 0u64);
        for step in 0..10_000u64 {
            while window.may_send(0, sent) {
                sent += 1;
                assert!(sent - slow <= 16, "{sent} sent, slow has {slow}");
            }
            // The fast subscriber takes everything; the slow one one message per step.
            while fast < sent {
                fast += 1;
                window.received(0, fast);
            }
            if slow < sent && step % 3 == 0 {
                slow += 1;
                window.received(0, slow);
            }
        }
        assert!(sent > 3000, "the window kept moving: {sent}");
        assert!(sent - slow >= 14, "the window is used: {sent} vs {slow}");
    }

    #[test]
    fn nothing_received_blocks_after_the_window() {
        let window = Window::new(128, 2);
        window.set_subscribers(5000);
        assert!(window.may_send(1, 127));
        assert!(!window.may_send(1, 128));
    }
}
