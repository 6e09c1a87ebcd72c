//! Counters and a latency histogram for one server, in Prometheus' text format.
//!
//! Kept per server rather than in a process-global recorder, so two servers in one
//! process (tests, or an app running two) report their own figures. Hot paths pay one
//! relaxed atomic add: the writer counts a whole batch at once.

#[cfg(feature = "metrics")]
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[cfg(feature = "metrics")]
use super::{BackplaneStats, Stats};
use crate::protocol::ErrorCode;

/// Upper bounds of the dispatch-latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Debug, Default)]
// Without the `metrics` feature some counters are kept but never rendered.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) struct Metrics {
    connections_opened: AtomicU64,
    handshakes_refused: AtomicU64,
    packets_in: AtomicU64,
    packets_out: AtomicU64,
    errors: [AtomicU64; ErrorCode::ALL.len()],
    dispatch_buckets: [AtomicU64; BUCKETS.len()],
    dispatch_count: AtomicU64,
    dispatch_micros: AtomicU64,
    /// Channel listener actors alive (a gauge: started minus stopped).
    channel_actors: AtomicU64,
    /// Connections aborted because their socket accepted nothing within the write timeout.
    write_timeouts: AtomicU64,
    /// Change notifications the database source turned into signals.
    source_notifications: AtomicU64,
    /// Change notifications the database source could not read (logged, then skipped).
    source_malformed: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl Metrics {
    pub(crate) fn connection_opened(&self) {
        add(&self.connections_opened, 1);
    }

    pub(crate) fn handshake_refused(&self) {
        add(&self.handshakes_refused, 1);
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

    pub(crate) fn dispatched(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.dispatch_buckets) {
            if seconds <= *bound {
                add(bucket, 1);
            }
        }
        add(&self.dispatch_count, 1);
        add(
            &self.dispatch_micros,
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        );
    }

    /// The exposition text: gauges from the index, counters from here and the backplane.
    #[cfg(feature = "metrics")]
    pub(crate) fn render(&self, stats: &Stats, backplane: &BackplaneStats) -> String {
        let mut out = String::with_capacity(4096);
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, f64)]| {
            let _ = writeln!(
                out,
                "# HELP switchboard_{name} {help}\n# TYPE switchboard_{name} {kind}"
            );
            for (labels, value) in samples {
                let _ = writeln!(out, "switchboard_{name}{labels} {value}");
            }
        };
        let one = |v: u64| vec![(String::new(), v as f64)];
        metric(
            "connections",
            "gauge",
            "Open WebSocket connections.",
            &one(stats.connections as u64),
        );
        metric(
            "users",
            "gauge",
            "Distinct authenticated users connected.",
            &one(stats.users as u64),
        );
        metric(
            "channels",
            "gauge",
            "Concrete channels with a subscriber.",
            &one(stats.channels as u64),
        );
        metric(
            "subscriptions",
            "gauge",
            "Subscriptions over all connections.",
            &one(stats.subscriptions as u64),
        );
        metric(
            "connections_opened_total",
            "counter",
            "Connections accepted.",
            &one(get(&self.connections_opened)),
        );
        metric(
            "handshakes_refused_total",
            "counter",
            "Upgrades refused (auth, origin, caps).",
            &one(get(&self.handshakes_refused)),
        );
        metric(
            "packets_in_total",
            "counter",
            "Text packets received from clients.",
            &one(get(&self.packets_in)),
        );
        metric(
            "packets_out_total",
            "counter",
            "Frames queued for clients (written unless the connection closes first).",
            &one(get(&self.packets_out)),
        );
        metric(
            "write_timeouts_total",
            "counter",
            "Connections aborted because their socket accepted no bytes within the write timeout.",
            &one(get(&self.write_timeouts)),
        );
        let errors: Vec<_> = ErrorCode::ALL
            .iter()
            .map(|code| {
                (
                    format!("{{code=\"{code}\"}}"),
                    get(&self.errors[code.index()]) as f64,
                )
            })
            .collect();
        metric(
            "errors_total",
            "counter",
            "Packets refused, by protocol error code.",
            &errors,
        );
        let mut histogram: Vec<_> = BUCKETS
            .iter()
            .zip(&self.dispatch_buckets)
            .map(|(bound, bucket)| (format!("_bucket{{le=\"{bound}\"}}"), get(bucket) as f64))
            .collect();
        let count = get(&self.dispatch_count) as f64;
        histogram.push(("_bucket{le=\"+Inf\"}".into(), count));
        histogram.push(("_sum".into(), get(&self.dispatch_micros) as f64 / 1e6));
        histogram.push(("_count".into(), count));
        metric(
            "dispatch_seconds",
            "histogram",
            "Time to handle one event, in seconds.",
            &histogram,
        );
        metric(
            "source_notifications_total",
            "counter",
            "Change notifications from the database source turned into signals.",
            &one(get(&self.source_notifications)),
        );
        metric(
            "source_malformed_total",
            "counter",
            "Change notifications from the database source that did not parse.",
            &one(get(&self.source_malformed)),
        );
        metric(
            "backplane_published_total",
            "counter",
            "Messages published to other nodes.",
            &one(backplane.published),
        );
        metric(
            "backplane_failures_total",
            "counter",
            "Messages that could not be published to other nodes.",
            &one(backplane.publish_failed),
        );
        metric(
            "backplane_received_total",
            "counter",
            "Messages received from other nodes.",
            &one(backplane.received),
        );
        metric(
            "backplane_connected",
            "gauge",
            "1 when other nodes are reachable.",
            &one(u64::from(backplane.connected)),
        );
        out
    }
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_labels_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.error(ErrorCode::BadJson);
        m.dispatched(Duration::from_micros(300));
        m.dispatched(Duration::from_millis(30));
        let text = m.render(&Stats::default(), &BackplaneStats::default());
        assert!(
            text.contains("switchboard_errors_total{code=\"bad_json\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("switchboard_dispatch_seconds_bucket{le=\"0.0005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("switchboard_dispatch_seconds_bucket{le=\"0.05\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("switchboard_dispatch_seconds_count 2\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE switchboard_connections gauge\n"),
            "{text}"
        );
    }
}
