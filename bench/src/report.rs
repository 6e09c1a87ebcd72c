//! What a run reports, and the summary of several runs: medians, ratios to the raw
//! baseline, and the targets of `BENCHMARKS.md`.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::Target;

/// Publish-to-receive latency over every delivery of a run, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Deliveries measured.
    pub count: u64,
    /// Median.
    pub p50_us: u64,
    /// 95th percentile.
    pub p95_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Slowest.
    pub max_us: u64,
}

impl Latency {
    /// The percentiles of `histogram`.
    pub fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        Self {
            count: histogram.len(),
            p50_us: histogram.value_at_quantile(0.50),
            p95_us: histogram.value_at_quantile(0.95),
            p99_us: histogram.value_at_quantile(0.99),
            max_us: histogram.max(),
        }
    }
}

/// One run's figures. Serialized as one JSON line per run; fields added later default,
/// so older result files still read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// S1..S5 (or a custom name).
    pub scenario: String,
    /// Which server.
    pub target: Target,
    /// Which repetition.
    pub run: u32,
    /// Server processes measured (2 in S5).
    #[serde(default = "one")]
    pub nodes: usize,
    /// Subscribers asked for.
    pub subscribers: usize,
    /// Subscribers connected and subscribed.
    pub connected: usize,
    /// Subscribers that could not connect or subscribe.
    pub connect_failures: usize,
    /// Time to connect and subscribe them all.
    pub connect_secs: f64,
    /// Publisher connections.
    pub publishers: usize,
    /// How long publishers sent.
    pub publish_secs: f64,
    /// Messages sent by all publishers.
    pub sent: u64,
    /// Deliveries that should have reached subscribers.
    pub expected: u64,
    /// Deliveries that did, duplicates included.
    pub delivered: u64,
    /// Expected deliveries that never arrived.
    pub lost: u64,
    /// Deliveries received more than once.
    pub duplicated: u64,
    /// Deliveries that arrived after a higher sequence number of the same publisher.
    #[serde(default)]
    pub reordered: u64,
    /// Routed messages that reached the wrong subscriber.
    pub misrouted: u64,
    /// Subscriber connections the server ended during the run.
    pub closed_early: u64,
    /// Deliveries per subscriber socket read that brought any: how many frames the
    /// server wrote together (the load generator's cost per delivery falls as it rises).
    #[serde(default)]
    pub deliveries_per_read: Option<f64>,
    /// Messages sent per second.
    pub messages_per_sec: f64,
    /// Deliveries per second, from the first publish to the last delivery.
    pub deliveries_per_sec: f64,
    /// Publish-to-receive latency.
    pub latency: Latency,
    /// Server RSS before any connection, KiB (summed over nodes).
    pub rss_before_kib: Option<u64>,
    /// Server RSS once every connection is open and subscribed, KiB.
    pub rss_after_kib: Option<u64>,
    /// Server peak RSS (VmHWM) at the end, KiB.
    pub rss_peak_kib: Option<u64>,
    /// (rss_after - rss_before) / connections, bytes.
    pub rss_per_conn_bytes: Option<f64>,
    /// Server CPU time (user + system, summed over nodes) while publishing and draining.
    pub server_cpu_secs: Option<f64>,
    /// Server CPU microseconds per delivery (broadcast) or per routed message.
    pub server_cpu_us_per_unit: Option<f64>,
    /// Redis's CPU time over the same interval (S5), not included in the server's.
    #[serde(default)]
    pub redis_cpu_secs: Option<f64>,
    /// The load generator's own CPU time over the same interval: near two cores means the
    /// load generator, not the server, set the pace.
    #[serde(default)]
    pub loadgen_cpu_secs: Option<f64>,
    /// The machine's 1-minute load average when publishing started (other work on the
    /// machine shows here).
    #[serde(default)]
    pub load_avg: Option<f64>,
}

fn one() -> usize {
    1
}

impl Report {
    /// Deliveries that went wrong: lost, duplicated, reordered, misrouted.
    pub fn faults(&self) -> u64 {
        self.lost + self.duplicated + self.reordered + self.misrouted
    }

    /// A few human-readable lines.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} {} run {}: {}/{} subscribers + {} publishers connected in {:.2} s",
            self.scenario,
            self.target,
            self.run,
            self.connected,
            self.subscribers,
            self.publishers,
            self.connect_secs
        );
        let _ = writeln!(
            out,
            "  sent {} msgs ({:.0}/s), delivered {} of {} ({:.0}/s), lost {}, duplicated {}, reordered {}, misrouted {}, closed early {}",
            self.sent,
            self.messages_per_sec,
            self.delivered,
            self.expected,
            self.deliveries_per_sec,
            self.lost,
            self.duplicated,
            self.reordered,
            self.misrouted,
            self.closed_early
        );
        let l = &self.latency;
        let _ = writeln!(
            out,
            "  latency p50 {} p95 {} p99 {} max {} (over {} deliveries)",
            ms(l.p50_us as f64),
            ms(l.p95_us as f64),
            ms(l.p99_us as f64),
            ms(l.max_us as f64),
            l.count
        );
        let _ = writeln!(
            out,
            "  server rss before {} after {} peak {}; {} per connection; cpu {} ({} per unit)",
            opt(self
                .rss_before_kib
                .map(|k| format!("{:.1} MiB", k as f64 / 1024.0))),
            opt(self
                .rss_after_kib
                .map(|k| format!("{:.1} MiB", k as f64 / 1024.0))),
            opt(self
                .rss_peak_kib
                .map(|k| format!("{:.1} MiB", k as f64 / 1024.0))),
            opt(self.rss_per_conn_bytes.map(kib)),
            opt(self.server_cpu_secs.map(|s| format!("{s:.2} s"))),
            opt(self.server_cpu_us_per_unit.map(|us| format!("{us:.3} us"))),
        );
        if let Some(own) = self.loadgen_cpu_secs {
            let _ = writeln!(
                out,
                "  load generator cpu {own:.2} s ({:.3} us per delivery)",
                if self.delivered > 0 {
                    own * 1e6 / self.delivered as f64
                } else {
                    0.0
                }
            );
        }
        if let Some(load) = self.load_avg {
            let _ = writeln!(out, "  load average {load:.2} when publishing started");
        }
        if let Some(redis) = self.redis_cpu_secs {
            let _ = writeln!(out, "  {} nodes; redis cpu {redis:.2} s", self.nodes);
        }
        out
    }
}

fn opt(value: Option<String>) -> String {
    value.unwrap_or_else(|| "-".to_owned())
}

pub(crate) fn ms(us: f64) -> String {
    format!("{:.2} ms", us / 1000.0)
}

pub(crate) fn kib(bytes: f64) -> String {
    format!("{:.1} KiB", bytes / 1024.0)
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        f64::midpoint(values[mid - 1], values[mid])
    })
}

pub use crate::summary::summarize;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
