//! Encoding a node's figures for Prometheus through `prometheus-client` (cargo feature
//! `metrics`): gauges read from [`Stats`] and [`BackplaneStats`] at scrape time, counters
//! from [`Metrics`]. The send layer wraps this in a `Collector` an application can
//! register in its own `Registry`.

use std::fmt;

use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeMetric, LabelSetEncoder, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;

use super::metrics::{BUCKETS, Ending, Metrics, get};
use super::{BackplaneStats, Stats};
use crate::protocol::ErrorCode;

/// A counter per label set.
pub(super) type Tally<L> = Family<L, Counter>;

/// `code="1000"`, or `code="none"` for a connection that ended without a close frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct CloseLabel(Ending);

impl CloseLabel {
    pub(super) fn of(ending: Ending) -> Self {
        Self(ending)
    }
}

impl EncodeLabelSet for CloseLabel {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        match self.0 {
            Some(code) => [("code", code)].encode(encoder),
            None => [("code", "none")].encode(encoder),
        }
    }
}

/// `status="401",code="expired_token"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct RefusalLabels {
    pub(super) status: u16,
    pub(super) code: &'static str,
}

impl EncodeLabelSet for RefusalLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        [("status", self.status)].encode(encoder)?;
        [("code", self.code)].encode(encoder)
    }
}

fn gauge(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: i64) -> fmt::Result {
    ConstGauge::new(value).encode(encoder.encode_descriptor(name, help, None, MetricType::Gauge)?)
}

/// `name` is given without `_total`: the encoder appends it to counters.
fn counter(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> fmt::Result {
    ConstCounter::new(value).encode(encoder.encode_descriptor(
        name,
        help,
        None,
        MetricType::Counter,
    )?)
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Metrics {
    /// Every figure of one node, for one scrape.
    pub(crate) fn encode(
        &self,
        stats: &Stats,
        backplane: &BackplaneStats,
        mut encoder: DescriptorEncoder,
    ) -> fmt::Result {
        let e = &mut encoder;
        gauge(
            e,
            "connections",
            "Open WebSocket connections.",
            count(stats.connections),
        )?;
        gauge(
            e,
            "users",
            "Distinct authenticated users connected.",
            count(stats.users),
        )?;
        gauge(
            e,
            "channels",
            "Concrete channels with a subscriber.",
            count(stats.channels),
        )?;
        let subscriptions = count(stats.subscriptions);
        gauge(
            e,
            "subscriptions",
            "Subscriptions over all connections.",
            subscriptions,
        )?;
        let actors = count(stats.channel_actors);
        gauge(
            e,
            "channel_actors",
            "Channel listener actors running.",
            actors,
        )?;
        gauge(
            e,
            "streams",
            "Streams whose history this node keeps.",
            count(stats.streams),
        )?;
        let bytes = count(stats.history_bytes);
        gauge(e, "history_bytes", "Bytes of stream history kept.", bytes)?;

        let opened = get(&self.connections_opened);
        counter(e, "connections_opened", "Connections accepted.", opened)?;
        self.closes.encode(e.encode_descriptor(
            "connections_closed",
            "Connections ended, by close code (`none`: without a close handshake).",
            None,
            MetricType::Counter,
        )?)?;
        self.refusals.encode(e.encode_descriptor(
            "handshakes_refused",
            "Upgrades refused, by HTTP status and reason code.",
            None,
            MetricType::Counter,
        )?)?;
        let packets_in = get(&self.packets_in);
        counter(
            e,
            "packets_in",
            "Text packets received from clients.",
            packets_in,
        )?;
        counter(
            e,
            "packets_out",
            "Frames queued for clients (written unless the connection closes first).",
            get(&self.packets_out),
        )?;
        counter(
            e,
            "write_timeouts",
            "Connections aborted because their socket accepted no bytes within the write timeout.",
            get(&self.write_timeouts),
        )?;
        self.encode_errors(e)?;
        self.encode_dispatch(e)?;
        counter(
            e,
            "source_notifications",
            "Change notifications from the database source turned into signals.",
            get(&self.source_notifications),
        )?;
        counter(
            e,
            "source_malformed",
            "Change notifications from the database source that did not parse.",
            get(&self.source_malformed),
        )?;
        let published = backplane.published;
        counter(
            e,
            "backplane_published",
            "Messages published to other nodes.",
            published,
        )?;
        counter(
            e,
            "backplane_failures",
            "Messages that could not be published to other nodes.",
            backplane.publish_failed,
        )?;
        let received = backplane.received;
        counter(
            e,
            "backplane_received",
            "Messages received from other nodes.",
            received,
        )?;
        let connected = i64::from(backplane.connected);
        gauge(
            e,
            "backplane_connected",
            "1 when other nodes are reachable.",
            connected,
        )
    }

    fn encode_errors(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        let mut errors = encoder.encode_descriptor(
            "errors",
            "Packets refused, by protocol error code.",
            None,
            MetricType::Counter,
        )?;
        for code in ErrorCode::ALL {
            let labels = [("code", code.as_str())];
            ConstCounter::new(get(&self.errors[code.index()]))
                .encode(errors.encode_family(&labels)?)?;
        }
        Ok(())
    }

    fn encode_dispatch(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        let buckets: Vec<(f64, u64)> = BUCKETS
            .iter()
            .zip(&self.dispatch_buckets)
            .map(|(bound, bucket)| (*bound, get(bucket)))
            .collect();
        let seconds = get(&self.dispatch_micros) as f64 / 1e6;
        encoder
            .encode_descriptor(
                "dispatch_seconds",
                "Time to handle one event, in seconds.",
                None,
                MetricType::Histogram,
            )?
            .encode_histogram::<NoLabelSet>(seconds, get(&self.dispatch_count), &buckets, None)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use prometheus_client::collector::Collector;
    use prometheus_client::registry::Registry;

    use super::*;

    #[derive(Debug, Default)]
    struct Node(Metrics);

    impl Collector for Node {
        fn encode(&self, encoder: DescriptorEncoder) -> fmt::Result {
            self.0
                .encode(&Stats::default(), &BackplaneStats::default(), encoder)
        }
    }

    fn scrape(metrics: Metrics) -> String {
        let mut registry = Registry::with_prefix("switchboard");
        registry.register_collector(Box::new(Node(metrics)));
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
            .expect("encodes");
        text
    }

    #[test]
    fn counts_errors_closes_and_refusals_by_code() {
        let m = Metrics::default();
        m.error(ErrorCode::BadJson);
        m.connection_ended(Some(4008));
        m.connection_ended(Some(4008));
        m.connection_ended(None);
        m.handshake_refused(401, "expired_token");
        let text = scrape(m);
        for line in [
            "switchboard_errors_total{code=\"bad_json\"} 1\n",
            "switchboard_errors_total{code=\"rate_limited\"} 0\n",
            "switchboard_connections_closed_total{code=\"4008\"} 2\n",
            "switchboard_connections_closed_total{code=\"none\"} 1\n",
            "switchboard_handshakes_refused_total{status=\"401\",code=\"expired_token\"} 1\n",
            "# TYPE switchboard_connections gauge\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn the_dispatch_histogram_is_cumulative_and_counts_what_passes_the_last_bound() {
        let m = Metrics::default();
        m.dispatched(Duration::from_micros(300));
        m.dispatched(Duration::from_millis(30));
        m.dispatched(Duration::from_secs(2));
        let text = scrape(m);
        for line in [
            "switchboard_dispatch_seconds_bucket{le=\"0.0001\"} 0\n",
            "switchboard_dispatch_seconds_bucket{le=\"0.0005\"} 1\n",
            "switchboard_dispatch_seconds_bucket{le=\"0.05\"} 2\n",
            "switchboard_dispatch_seconds_bucket{le=\"1\"} 2\n",
            "switchboard_dispatch_seconds_bucket{le=\"+Inf\"} 3\n",
            "switchboard_dispatch_seconds_count 3\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }
}
