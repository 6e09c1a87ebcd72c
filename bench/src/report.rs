//! What a run reports, and the summary of several runs: medians, ratios to the raw
//! baseline, and the targets of `BENCHMARKS.md`.

use std::collections::BTreeMap;
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

/// One run's figures. Serialized as one JSON line per run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// S1..S4 (or a custom name).
    pub scenario: String,
    /// Which server.
    pub target: Target,
    /// Which repetition.
    pub run: u32,
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
    /// Routed messages that reached the wrong subscriber.
    pub misrouted: u64,
    /// Subscriber connections the server ended during the run.
    pub closed_early: u64,
    /// Messages sent per second.
    pub messages_per_sec: f64,
    /// Deliveries per second, from the first publish to the last delivery.
    pub deliveries_per_sec: f64,
    /// Publish-to-receive latency.
    pub latency: Latency,
    /// Server RSS before any connection, KiB.
    pub rss_before_kib: Option<u64>,
    /// Server RSS once every connection is open and subscribed, KiB.
    pub rss_after_kib: Option<u64>,
    /// Server peak RSS (VmHWM) at the end, KiB.
    pub rss_peak_kib: Option<u64>,
    /// (rss_after - rss_before) / connections, bytes.
    pub rss_per_conn_bytes: Option<f64>,
    /// Server CPU time (user + system) while publishing and draining.
    pub server_cpu_secs: Option<f64>,
    /// Server CPU microseconds per delivery (broadcast) or per routed message.
    pub server_cpu_us_per_unit: Option<f64>,
}

impl Report {
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
            "  sent {} msgs ({:.0}/s), delivered {} of {} ({:.0}/s), lost {}, duplicated {}, misrouted {}, closed early {}",
            self.sent,
            self.messages_per_sec,
            self.delivered,
            self.expected,
            self.deliveries_per_sec,
            self.lost,
            self.duplicated,
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
            opt(self.server_cpu_us_per_unit.map(|us| format!("{us:.2} us"))),
        );
        out
    }
}

fn opt(value: Option<String>) -> String {
    value.unwrap_or_else(|| "-".to_owned())
}

fn ms(us: f64) -> String {
    format!("{:.2} ms", us / 1000.0)
}

fn kib(bytes: f64) -> String {
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

/// One figure of a scenario: how to read it from a report and how to show it.
struct Metric {
    name: &'static str,
    read: fn(&Report) -> Option<f64>,
    show: fn(f64) -> String,
}

fn metrics(scenario: &str) -> Vec<Metric> {
    let connect = Metric {
        name: "connect + subscribe all",
        read: |r| Some(r.connect_secs),
        show: |s| format!("{s:.2} s"),
    };
    let deliveries = Metric {
        name: "deliveries/s",
        read: |r| Some(r.deliveries_per_sec),
        show: |v| format!("{v:.0}"),
    };
    let messages = Metric {
        name: "messages routed/s",
        read: |r| Some(r.messages_per_sec),
        show: |v| format!("{v:.0}"),
    };
    let p = |name, read: fn(&Report) -> Option<f64>| Metric {
        name,
        read,
        show: |us| ms(us),
    };
    let p50 = p("latency p50", |r| Some(r.latency.p50_us as f64));
    let p95 = p("latency p95", |r| Some(r.latency.p95_us as f64));
    let p99 = p("latency p99", |r| Some(r.latency.p99_us as f64));
    let max = p("latency max", |r| Some(r.latency.max_us as f64));
    let cpu = Metric {
        name: "server CPU per delivery",
        read: |r| r.server_cpu_us_per_unit,
        show: |us| format!("{us:.2} us"),
    };
    let cpu_msg = Metric {
        name: "server CPU per message",
        ..cpu
    };
    let per_conn = Metric {
        name: "RSS per connection",
        read: |r| r.rss_per_conn_bytes,
        show: kib,
    };
    let peak = Metric {
        name: "peak RSS",
        read: |r| r.rss_peak_kib.map(|k| k as f64),
        show: |k| format!("{:.1} MiB", k / 1024.0),
    };
    let lost = Metric {
        name: "lost + duplicated + misrouted (sum of runs)",
        read: |r| Some((r.lost + r.duplicated + r.misrouted) as f64),
        show: |v| format!("{v:.0}"),
    };
    match scenario {
        "S1" => vec![p50, p95, p99, max, deliveries, connect, lost],
        "S2" => vec![deliveries, cpu, p50, p99, connect, peak, lost],
        "S3" => vec![per_conn, peak, connect],
        "S4" => vec![messages, cpu_msg, p50, p99, per_conn, connect, lost],
        _ => vec![deliveries, p50, p99, per_conn, connect, lost],
    }
}

/// Medians per scenario and target, the ratios framework / raw, and the targets, as
/// Markdown. `reports` holds every run of one session of the benchmark.
pub fn summarize(reports: &[Report]) -> String {
    let mut by_scenario: BTreeMap<&str, Vec<&Report>> = BTreeMap::new();
    for report in reports {
        by_scenario
            .entry(&report.scenario)
            .or_default()
            .push(report);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| scenario | figure | framework | raw baseline | framework / raw |\n|---|---|---|---|---|"
    );
    for (scenario, runs) in &by_scenario {
        for metric in metrics(scenario) {
            let fw = figure(runs, Target::Framework, &metric);
            let raw = figure(runs, Target::Raw, &metric);
            let ratio = match (fw, raw) {
                (Some(f), Some(r)) if r != 0.0 => format!("{:.2}", f / r),
                _ => "-".to_owned(),
            };
            let show = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), metric.show);
            let _ = writeln!(
                out,
                "| {scenario} | {} | {} | {} | {ratio} |",
                metric.name,
                show(fw),
                show(raw)
            );
        }
    }
    let runs: BTreeMap<(&str, Target), usize> = reports.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry((r.scenario.as_str(), r.target)).or_default() += 1;
        m
    });
    let _ = writeln!(
        out,
        "\nRuns: {}",
        runs.iter()
            .map(|((s, t), n)| format!("{s} {t} x{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(out, "\n{}", targets(&by_scenario));
    out
}

/// The sum over runs (for counts of failures), the median otherwise.
fn figure(runs: &[&Report], target: Target, metric: &Metric) -> Option<f64> {
    let mut values: Vec<f64> = runs
        .iter()
        .filter(|r| r.target == target)
        .filter_map(|r| (metric.read)(r))
        .collect();
    if metric.name.starts_with("lost") {
        return (!values.is_empty()).then(|| values.iter().sum());
    }
    median(&mut values)
}

fn targets(by_scenario: &BTreeMap<&str, Vec<&Report>>) -> String {
    let median_of = |scenario: &str, target: Target, read: fn(&Report) -> Option<f64>| {
        let mut values: Vec<f64> = by_scenario
            .get(scenario)?
            .iter()
            .filter(|r| r.target == target)
            .filter_map(|r| read(r))
            .collect();
        median(&mut values)
    };
    let verdict = |met: bool| if met { "**met**" } else { "**missed**" };
    let mut out = String::from("| target | figure | verdict |\n|---|---|---|\n");
    let dps = |r: &Report| Some(r.deliveries_per_sec);
    if let (Some(fw), Some(raw)) = (
        median_of("S2", Target::Framework, dps),
        median_of("S2", Target::Raw, dps),
    ) {
        let ratio = fw / raw;
        let _ = writeln!(
            out,
            "| S2 deliveries/s >= 60% of raw | {fw:.0} vs {raw:.0} = {:.0}% | {} |",
            ratio * 100.0,
            verdict(ratio >= 0.6)
        );
    }
    let p99 = |r: &Report| Some(r.latency.p99_us as f64);
    if let (Some(fw), Some(raw)) = (
        median_of("S1", Target::Framework, p99),
        median_of("S1", Target::Raw, p99),
    ) {
        let _ = writeln!(
            out,
            "| S1 p99 latency <= 2x raw p99 | {} vs {} = {:.2}x | {} |",
            ms(fw),
            ms(raw),
            fw / raw.max(1.0),
            verdict(fw <= 2.0 * raw)
        );
    }
    let failures: u64 = by_scenario
        .values()
        .flatten()
        .map(|r| r.lost + r.duplicated + r.misrouted + r.connect_failures as u64)
        .sum();
    let fw_failures: u64 = by_scenario
        .values()
        .flatten()
        .filter(|r| r.target == Target::Framework)
        .map(|r| r.lost + r.duplicated + r.misrouted + r.connect_failures as u64)
        .sum();
    let _ = writeln!(
        out,
        "| zero lost or duplicated deliveries, every scenario | framework {fw_failures}, raw {} (lost + duplicated + misrouted + failed connects, all runs) | {} |",
        failures - fw_failures,
        verdict(fw_failures == 0)
    );
    if let Some(per_conn) = median_of("S3", Target::Framework, |r| r.rss_per_conn_bytes) {
        let _ = writeln!(
            out,
            "| S3 < 16 KiB RSS per idle connection | {} | {} |",
            kib(per_conn),
            verdict(per_conn < 16.0 * 1024.0)
        );
    }
    out
}

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
