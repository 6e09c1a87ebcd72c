//! Reconnect delays for a lost transport.

use std::time::Duration;

use crate::ids::NodeId;

/// Reconnect delays: doubling from the first to the cap.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// Exponential backoff with jitter, so nodes that lost the transport together do not
/// all reconnect in the same instant.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
    seed: u64,
}

impl Backoff {
    pub(crate) fn new(node: &NodeId) -> Self {
        let seed = node
            .as_str()
            .bytes()
            .fold(0x9e37_79b9_7f4a_7c15, |h: u64, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        Self {
            next: BACKOFF_FIRST,
            seed: seed | 1,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.next = BACKOFF_FIRST;
    }

    /// Half the current step plus a random part of the other half.
    pub(crate) fn next(&mut self) -> Duration {
        // xorshift64: plenty for jitter.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let step = self.next;
        self.next = (self.next * 2).min(BACKOFF_CAP);
        let half = step / 2;
        let jitter = half.mul_f64((self.seed % 1000) as f64 / 1000.0);
        half + jitter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_cap_with_jitter() {
        let mut backoff = Backoff::new(&NodeId::random());
        let delays: Vec<_> = (0..10).map(|_| backoff.next()).collect();
        assert!(delays[0] >= BACKOFF_FIRST / 2 && delays[0] <= BACKOFF_FIRST);
        assert!(delays.iter().all(|d| *d <= BACKOFF_CAP));
        assert!(delays[9] >= BACKOFF_CAP / 2);
        backoff.reset();
        assert!(backoff.next() <= BACKOFF_FIRST);
    }
}
