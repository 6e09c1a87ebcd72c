//! The summary of a session of runs: medians, spread, ratios, and the targets.
//!
//! Every figure is the median over runs; beside it, the slowest run over the median
//! (`min / median`: a figure near 1 means the runs agree, one far below 1 a mode
//! switch), and the ratio to the baseline measured in the same session: the raw
//! server for S1..S4, and for S5 the framework's own S2 (what crossing nodes costs).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::Target;
use crate::report::{Report, kib, median, ms};

/// `bench/run.sh`'s targets (the issue "The delivery core").
mod target {
    /// The raw baseline must reach this in S2, or the load generator is the limit.
    pub const RAW_S2_MIN: f64 = 3.0e6;
    /// S2 deliveries/s, framework over raw.
    pub const S2_RATIO: f64 = 0.85;
    /// S2 server CPU per delivery, microseconds.
    pub const S2_CPU_US: f64 = 0.25;
    /// S2's slowest run over its median.
    pub const S2_SPREAD: f64 = 0.80;
    /// S3 RSS per idle connection, bytes.
    pub const S3_BYTES: f64 = 10.0 * 1024.0;
    /// S1 p99 latency, framework over raw.
    pub const S1_P99_RATIO: f64 = 1.25;
    /// S5 CPU per delivery over S2's.
    pub const S5_CPU_RATIO: f64 = 1.3;
}

/// One figure of a scenario: how to read it from a report and how to show it.
#[derive(Clone, Copy)]
struct Metric {
    name: &'static str,
    read: fn(&Report) -> Option<f64>,
    show: fn(f64) -> String,
}

fn count(v: f64) -> String {
    format!("{v:.0}")
}

fn micros(us: f64) -> String {
    format!("{us:.3} us")
}

fn mib(k: f64) -> String {
    format!("{:.1} MiB", k / 1024.0)
}

fn metrics(scenario: &str) -> Vec<Metric> {
    let m = |name, read, show| Metric { name, read, show };
    let connect = m(
        "connect + subscribe all",
        |r| Some(r.connect_secs),
        |s| format!("{s:.2} s"),
    );
    let deliveries = m("deliveries/s", |r| Some(r.deliveries_per_sec), count);
    let messages = m("messages routed/s", |r| Some(r.messages_per_sec), count);
    let p50 = m("latency p50", |r| Some(r.latency.p50_us as f64), ms);
    let p95 = m("latency p95", |r| Some(r.latency.p95_us as f64), ms);
    let p99 = m("latency p99", |r| Some(r.latency.p99_us as f64), ms);
    let max = m("latency max", |r| Some(r.latency.max_us as f64), ms);
    let cpu = m(
        "server CPU per delivery",
        |r| r.server_cpu_us_per_unit,
        micros,
    );
    let cpu_msg = m(
        "server CPU per message",
        |r| r.server_cpu_us_per_unit,
        micros,
    );
    let redis = m(
        "Redis CPU per delivery (not in the above)",
        |r| per_delivery_us(r.redis_cpu_secs, r.delivered),
        micros,
    );
    let own = m(
        "load generator CPU per delivery",
        |r| per_delivery_us(r.loadgen_cpu_secs, r.delivered),
        micros,
    );
    let batch = m(
        "deliveries per subscriber read (server batching)",
        |r| r.deliveries_per_read,
        |v| format!("{v:.1}"),
    );
    let per_conn = m("RSS per connection", |r| r.rss_per_conn_bytes, kib);
    let peak = m("peak RSS", |r| r.rss_peak_kib.map(|k| k as f64), mib);
    let load = m(
        "load average at start",
        |r| r.load_avg,
        |l| format!("{l:.2}"),
    );
    match scenario {
        "S1" => vec![p50, p95, p99, max, deliveries, cpu, connect, load],
        "S2" => vec![deliveries, cpu, own, batch, p50, p99, connect, peak, load],
        "S3" => vec![per_conn, peak, connect, load],
        "S4" => vec![messages, cpu_msg, p50, p99, per_conn, connect, load],
        "S5" => vec![
            deliveries, cpu, redis, own, batch, p50, p99, connect, peak, load,
        ],
        _ => vec![deliveries, cpu, p50, p99, per_conn, connect, load],
    }
}

/// The runs of one session, by scenario and target.
struct Session<'a> {
    runs: BTreeMap<(&'a str, Target), Vec<&'a Report>>,
}

impl<'a> Session<'a> {
    fn new(reports: &'a [Report]) -> Self {
        let mut runs: BTreeMap<_, Vec<_>> = BTreeMap::new();
        for r in reports {
            runs.entry((r.scenario.as_str(), r.target))
                .or_default()
                .push(r);
        }
        Self { runs }
    }

    fn values(&self, scenario: &str, target: Target, read: fn(&Report) -> Option<f64>) -> Vec<f64> {
        self.runs
            .get(&(scenario, target))
            .map(|runs| runs.iter().filter_map(|r| read(r)).collect())
            .unwrap_or_default()
    }

    fn median(
        &self,
        scenario: &str,
        target: Target,
        read: fn(&Report) -> Option<f64>,
    ) -> Option<f64> {
        median(&mut self.values(scenario, target, read))
    }

    /// The lowest value over the median.
    fn spread(
        &self,
        scenario: &str,
        target: Target,
        read: fn(&Report) -> Option<f64>,
    ) -> Option<f64> {
        let mut values = self.values(scenario, target, read);
        let mid = median(&mut values)?;
        let min = values.first()?; // sorted by median()
        (mid != 0.0).then(|| min / mid)
    }

    fn faults(&self, scenario: &str, target: Target) -> Option<String> {
        let runs = self.runs.get(&(scenario, target))?;
        let sum = |f: fn(&Report) -> u64| runs.iter().map(|r| f(r)).sum::<u64>();
        Some(format!(
            "{} / {} / {} / {} / {}",
            sum(|r| r.lost),
            sum(|r| r.duplicated),
            sum(|r| r.reordered),
            sum(|r| r.misrouted),
            sum(|r| r.connect_failures as u64 + r.closed_early)
        ))
    }

    fn scenarios(&self) -> Vec<&'a str> {
        let mut names: Vec<_> = self.runs.keys().map(|(s, _)| *s).collect();
        names.dedup();
        names
    }
}

/// What a scenario's framework figures are compared with.
fn baseline(scenario: &str) -> (&str, Target, &'static str) {
    match scenario {
        "S5" => ("S2", Target::Framework, "S2 framework"),
        other => (other, Target::Raw, "raw"),
    }
}

/// Medians per scenario and target, spreads, ratios and the targets, as Markdown.
/// `reports` holds every run of one session of the benchmark.
pub fn summarize(reports: &[Report]) -> String {
    let session = Session::new(reports);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| scenario | figure | framework | min / median | baseline | baseline min / median | framework / baseline |\n|---|---|---|---|---|---|---|"
    );
    let dash = || "-".to_owned();
    for scenario in session.scenarios() {
        let (base_scenario, base_target, base_name) = baseline(scenario);
        for metric in metrics(scenario) {
            let fw = session.median(scenario, Target::Framework, metric.read);
            let base = session.median(base_scenario, base_target, metric.read);
            let ratio = match (fw, base) {
                (Some(f), Some(b)) if b != 0.0 => format!("{:.2}", f / b),
                _ => dash(),
            };
            let show = |v: Option<f64>| v.map_or_else(dash, metric.show);
            let spread = |v: Option<f64>| v.map_or_else(dash, |s| format!("{s:.2}"));
            let _ = writeln!(
                out,
                "| {scenario} | {} | {} | {} | {} ({base_name}) | {} | {ratio} |",
                metric.name,
                show(fw),
                spread(session.spread(scenario, Target::Framework, metric.read)),
                show(base),
                spread(session.spread(base_scenario, base_target, metric.read)),
            );
        }
        let _ = writeln!(
            out,
            "| {scenario} | lost / duplicated / reordered / misrouted / failed or closed connections (sum of runs) | {} | | {} ({base_name}) | | |",
            session
                .faults(scenario, Target::Framework)
                .unwrap_or_else(dash),
            session
                .faults(base_scenario, base_target)
                .unwrap_or_else(dash),
        );
    }
    let _ = writeln!(
        out,
        "\nRuns: {}",
        session
            .runs
            .iter()
            .map(|((s, t), runs)| format!("{s} {t} x{}", runs.len()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(out, "\n{}", targets(&session, reports));
    out
}

fn targets(session: &Session<'_>, reports: &[Report]) -> String {
    let mark = |met: bool| if met { "✓" } else { "✗" };
    let mut out = String::from("| target | figure | met |\n|---|---|---|\n");
    let dps = |r: &Report| Some(r.deliveries_per_sec);
    let cpu = |r: &Report| r.server_cpu_us_per_unit;
    let (fw, raw) = (Target::Framework, Target::Raw);
    if let Some(raw_dps) = session.median("S2", raw, dps) {
        let _ = writeln!(
            out,
            "| raw S2 >= 3 M deliveries/s (the load generator is not the limit) | {raw_dps:.0} | {} |",
            mark(raw_dps >= target::RAW_S2_MIN)
        );
    }
    if let (Some(f), Some(r)) = (
        session.median("S2", fw, dps),
        session.median("S2", raw, dps),
    ) {
        let _ = writeln!(
            out,
            "| S2 deliveries/s >= 85% of raw | {f:.0} vs {r:.0} = {:.0}% | {} |",
            f / r * 100.0,
            mark(f >= target::S2_RATIO * r)
        );
    }
    if let Some(us) = session.median("S2", fw, cpu) {
        let _ = writeln!(
            out,
            "| S2 server CPU per delivery <= 0.25 us | {} | {} |",
            micros(us),
            mark(us <= target::S2_CPU_US)
        );
    }
    if let Some(spread) = session.spread("S2", fw, dps) {
        let n = session.values("S2", fw, dps).len();
        let _ = writeln!(
            out,
            "| S2 slowest run >= 80% of the median (5 runs or more) | {:.0}% over {n} runs | {} |",
            spread * 100.0,
            if n < 5 {
                "? (too few runs)"
            } else {
                mark(spread >= target::S2_SPREAD)
            }
        );
    }
    if let Some(bytes) = session.median("S3", fw, |r| r.rss_per_conn_bytes) {
        let _ = writeln!(
            out,
            "| S3 <= 10 KiB per idle subscribed connection | {} | {} |",
            kib(bytes),
            mark(bytes <= target::S3_BYTES)
        );
    }
    let p99 = |r: &Report| Some(r.latency.p99_us as f64);
    if let (Some(f), Some(r)) = (
        session.median("S1", fw, p99),
        session.median("S1", raw, p99),
    ) {
        let _ = writeln!(
            out,
            "| S1 p99 <= 1.25x raw | {} vs {} = {:.2}x | {} |",
            ms(f),
            ms(r),
            f / r.max(1.0),
            mark(f <= target::S1_P99_RATIO * r)
        );
    }
    if let (Some(s5), Some(s2)) = (session.median("S5", fw, cpu), session.median("S2", fw, cpu)) {
        let _ = writeln!(
            out,
            "| S5 CPU per delivery <= 1.3x S2's | {} vs {} = {:.2}x | {} |",
            micros(s5),
            micros(s2),
            s5 / s2,
            mark(s5 <= target::S5_CPU_RATIO * s2)
        );
    }
    let faults = |target: Target| -> u64 {
        reports
            .iter()
            .filter(|r| r.target == target)
            .map(|r| r.faults() + r.connect_failures as u64 + r.closed_early)
            .sum()
    };
    let (fw_faults, raw_faults) = (faults(fw), faults(raw));
    let _ = writeln!(
        out,
        "| zero lost, duplicated or reordered deliveries in every run | framework {fw_faults}, raw {raw_faults} (lost + duplicated + reordered + misrouted + failed or closed connections, all runs) | {} |",
        mark(fw_faults == 0 && raw_faults == 0)
    );
    out
}

/// CPU `secs` spread over `delivered` deliveries, in microseconds; `None` without either.
fn per_delivery_us(secs: Option<f64>, delivered: u64) -> Option<f64> {
    secs.filter(|_| delivered > 0)
        .map(|s| s * 1e6 / delivered as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Latency;

    fn report(scenario: &str, target: Target, dps: f64, cpu: f64) -> Report {
        Report {
            scenario: scenario.to_owned(),
            target,
            run: 1,
            nodes: 1,
            subscribers: 1,
            connected: 1,
            connect_failures: 0,
            connect_secs: 0.1,
            publishers: 1,
            publish_secs: 1.0,
            sent: 1,
            expected: 1,
            delivered: 1,
            lost: 0,
            duplicated: 0,
            reordered: 0,
            misrouted: 0,
            closed_early: 0,
            deliveries_per_read: None,
            messages_per_sec: 1.0,
            deliveries_per_sec: dps,
            latency: Latency::default(),
            rss_before_kib: None,
            rss_after_kib: None,
            rss_peak_kib: None,
            rss_per_conn_bytes: None,
            server_cpu_secs: None,
            server_cpu_us_per_unit: Some(cpu),
            redis_cpu_secs: None,
            loadgen_cpu_secs: None,
            load_avg: None,
        }
    }

    #[test]
    fn spreads_ratios_and_marks() {
        let mut reports = Vec::new();
        for dps in [3.0e6, 3.2e6, 3.1e6, 3.3e6, 3.15e6] {
            reports.push(report("S2", Target::Framework, dps, 0.2));
            reports.push(report("S2", Target::Raw, dps / 0.9, 0.18));
        }
        reports.push(report("S5", Target::Framework, 2.0e6, 0.3));
        let text = summarize(&reports);
        assert!(
            text.contains("| S2 | deliveries/s | 3150000 | 0.95 |"),
            "{text}"
        );
        assert!(
            text.contains("| S2 deliveries/s >= 85% of raw | 3150000 vs 3500000 = 90% | ✓ |"),
            "{text}"
        );
        assert!(
            text.contains(
                "| S5 CPU per delivery <= 1.3x S2's | 0.300 us vs 0.200 us = 1.50x | ✗ |"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "| S2 slowest run >= 80% of the median (5 runs or more) | 95% over 5 runs | ✓ |"
            ),
            "{text}"
        );
    }
}
