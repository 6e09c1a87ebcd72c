//! Inbound rate limiting for one connection.

use std::time::{Duration, Instant};

use crate::config::LimitSettings;

/// Refusals are counted over this window to tell a burst from a flood.
const FLOOD_WINDOW: Duration = Duration::from_secs(10);

/// What to do with one inbound packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Accept,
    /// Over the rate: refuse it with `rate_limited`.
    Refuse,
    /// Refused so often that the connection is closed with 4029.
    Flood,
}

/// A token bucket (`messages_per_second` refill, `burst` capacity) and a count of
/// refusals in the current window.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
    flood_close_after: u32,
    refused: u32,
    window_start: Instant,
}

impl RateLimiter {
    pub(crate) fn new(limits: &LimitSettings) -> Self {
        let now = Instant::now();
        Self {
            rate: f64::from(limits.messages_per_second),
            burst: f64::from(limits.burst),
            tokens: f64::from(limits.burst),
            last: now,
            flood_close_after: limits.flood_close_after,
            refused: 0,
            window_start: now,
        }
    }

    pub(crate) fn admit(&mut self) -> Admission {
        self.admit_at(Instant::now())
    }

    fn admit_at(&mut self, now: Instant) -> Admission {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Admission::Accept;
        }
        if now.saturating_duration_since(self.window_start) > FLOOD_WINDOW {
            self.window_start = now;
            self.refused = 0;
        }
        self.refused += 1;
        if self.refused > self.flood_close_after {
            Admission::Flood
        } else {
            Admission::Refuse
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(rate: u32, burst: u32, flood: u32) -> RateLimiter {
        RateLimiter::new(&LimitSettings {
            messages_per_second: rate,
            burst,
            flood_close_after: flood,
            ..LimitSettings::default()
        })
    }

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let mut l = limiter(10, 5, 100);
        let t0 = l.last;
        for _ in 0..5 {
            assert_eq!(l.admit_at(t0), Admission::Accept);
        }
        assert_eq!(l.admit_at(t0), Admission::Refuse);
        // 100 ms at 10/s refills one token.
        assert_eq!(
            l.admit_at(t0 + Duration::from_millis(100)),
            Admission::Accept
        );
        assert_eq!(
            l.admit_at(t0 + Duration::from_millis(100)),
            Admission::Refuse
        );
    }

    #[test]
    fn persistent_flooding_closes_but_an_old_burst_is_forgiven() {
        let mut l = limiter(1, 1, 3);
        let t0 = l.last;
        assert_eq!(l.admit_at(t0), Admission::Accept);
        for _ in 0..3 {
            assert_eq!(l.admit_at(t0), Admission::Refuse);
        }
        assert_eq!(l.admit_at(t0), Admission::Flood);

        let mut l = limiter(1, 1, 3);
        let t0 = l.last;
        l.admit_at(t0);
        for _ in 0..3 {
            l.admit_at(t0);
        }
        // A new window: the count starts again.
        let later = t0 + FLOOD_WINDOW + Duration::from_millis(1);
        assert_eq!(l.admit_at(later), Admission::Accept);
        assert_eq!(l.admit_at(later), Admission::Refuse);
    }
}
