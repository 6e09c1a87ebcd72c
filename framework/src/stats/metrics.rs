//! The counters behind `PREFIX/metrics`, kept per server.
//!
//! Kept per server rather than in a process-global recorder, so two servers in one
//! process (tests, or an app running two) report their own figures. Hot paths pay one
//! relaxed atomic add: the writer counts a whole batch at once. Closes and refusals,
//! once per connection, are counted by label in `prometheus-client` families (cargo
//! feature `metrics`); `super::exposition` encodes everything at scrape time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::protocol::ErrorCode;

/// Upper bounds of the dispatch-latency buckets, in seconds.
pub(super) const BUCKETS: [f64; 12] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// How a connection ended: the close code the server settled on (its own, or the
/// client's echoed back), or none when the TCP connection ended without a close
/// handshake (lost, or aborted for not reading).
pub(super) type Ending = Option<u16>;

#[derive(Debug, Default)]
// Without the `metrics` feature some counters are kept but never rendered.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) struct Metrics {
    pub(super) connections_opened: AtomicU64,
    pub(super) packets_in: AtomicU64,
    pub(super) packets_out: AtomicU64,
    pub(super) errors: [AtomicU64; ErrorCode::ALL.len()],
    /// Events handled per latency bucket (not cumulative: the encoder sums them).
    pub(super) dispatch_buckets: [AtomicU64; BUCKETS.len()],
    pub(super) dispatch_count: AtomicU64,
    pub(super) dispatch_micros: AtomicU64,
    /// Channel listener actors alive (a gauge: started minus stopped).
    channel_actors: AtomicU64,
    /// Connections aborted because their socket accepted nothing within the write timeout.
    pub(super) write_timeouts: AtomicU64,
    /// Change notifications the database source turned into signals.
    pub(super) source_notifications: AtomicU64,
    /// Change notifications the database source could not read (logged, then skipped).
    pub(super) source_malformed: AtomicU64,
    /// Connections ended, by close code.
    #[cfg(feature = "metrics")]
    pub(super) closes: super::exposition::Tally<super::exposition::CloseLabel>,
    /// Handshakes refused, by HTTP status and reason code.
    #[cfg(feature = "metrics")]
    pub(super) refusals: super::exposition::Tally<super::exposition::RefusalLabels>,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

pub(super) fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl Metrics {
    pub(crate) fn connection_opened(&self) {
        add(&self.connections_opened, 1);
    }

    /// A connection is over (counted once per connection, when its session stops).
    pub(crate) fn connection_ended(&self, ending: Ending) {
        #[cfg(feature = "metrics")]
        self.closes
            .get_or_create(&super::exposition::CloseLabel::of(ending))
            .inc();
        #[cfg(not(feature = "metrics"))]
        let _ = ending;
    }

    /// A handshake was refused with `status` and the machine-readable `code`
    /// (`expired_token`, `too_many_connections`, ...).
    pub(crate) fn handshake_refused(&self, status: u16, code: &'static str) {
        #[cfg(feature = "metrics")]
        self.refusals
            .get_or_create(&super::exposition::RefusalLabels { status, code })
            .inc();
        #[cfg(not(feature = "metrics"))]
        let _ = (status, code);
    }

    pub(crate) fn channel_actor_started(&self) {
        add(&self.channel_actors, 1);
    }

    pub(crate) fn channel_actor_stopped(&self) {
        self.channel_actors.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn channel_actors(&self) -> usize {
        usize::try_from(get(&self.channel_actors)).unwrap_or(usize::MAX)
    }

    pub(crate) fn write_timeout(&self) {
        add(&self.write_timeouts, 1);
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn source_notification(&self) {
        add(&self.source_notifications, 1);
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn source_malformed(&self) {
        add(&self.source_malformed, 1);
    }

    pub(crate) fn packet_in(&self) {
        add(&self.packets_in, 1);
    }

    pub(crate) fn packets_out(&self, n: usize) {
        add(&self.packets_out, n as u64);
    }

    pub(crate) fn error(&self, code: ErrorCode) {
        add(&self.errors[code.index()], 1);
    }

    /// One event handled in `took`: one add to its bucket (none past the last bound,
    /// where only the count and the sum see it), one to the count, one to the sum.
    pub(crate) fn dispatched(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            add(&self.dispatch_buckets[bucket], 1);
        }
        add(&self.dispatch_count, 1);
        add(
            &self.dispatch_micros,
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        );
    }
}
