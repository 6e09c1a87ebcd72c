//! This node's figures for Prometheus (cargo feature `metrics`), as a
//! `prometheus-client` collector: what `PREFIX/metrics` serves, and what an application
//! registers in its own registry to serve them beside its own.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::registry::Registry;

use super::SocketServer;

/// The prefix every metric name of Switchboard's starts with.
const PREFIX: &str = "switchboard";

/// Reads the node's counters and gauges at each scrape.
#[derive(Debug)]
struct NodeCollector(SocketServer);

impl Collector for NodeCollector {
    fn encode(&self, encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let server = &self.0;
        let stats = server.stats();
        let backplane = server.backplane_stats();
        server
            .path
            .delivery
            .metrics()
            .encode(&stats, &backplane, encoder)
    }
}

/// The text formats `PREFIX/metrics` answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricsFormat {
    /// Prometheus' classic text format (`text/plain; version=0.0.4`).
    Prometheus,
    /// OpenMetrics 1.0 text (`application/openmetrics-text; version=1.0.0`).
    OpenMetrics,
}

impl MetricsFormat {
    /// The `Content-Type` of a scrape answered in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

impl SocketServer {
    /// Registers this node's metrics (connections, closes by code, refusals by code,
    /// errors by code, dispatch latency, backplane traffic, ...) in an application's own
    /// `prometheus-client` registry, under the `switchboard_` prefix, so one scrape
    /// serves the app's figures and Switchboard's. They are read at each scrape.
    ///
    /// ```standalone_crate
    /// use switchboard::metrics::prometheus_client::{encoding::text, registry::Registry};
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut settings = switchboard::config::Settings::default();
    /// settings.middleware.clear();
    /// let running = switchboard::Switchboard::new(settings)?.start("127.0.0.1:0")?;
    ///
    /// let mut registry = Registry::default();
    /// running.server().register_metrics(&mut registry);
    /// let mut text = String::new();
    /// text::encode(&mut text, &registry)?;
    /// assert!(text.contains("switchboard_connections 0"));
    /// # running.stop().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn register_metrics(&self, registry: &mut Registry) {
        registry
            .sub_registry_with_prefix(PREFIX)
            .register_collector(Box::new(NodeCollector(self.clone())));
    }

    /// Every figure of this node as text in `format` (what `[metrics]` serves).
    pub fn metrics(&self, format: MetricsFormat) -> String {
        let mut registry = Registry::default();
        self.register_metrics(&mut registry);
        let mut text = String::with_capacity(8 * 1024);
        // Writing to a String cannot fail; an encoder error would be a bug of ours.
        let encoded = match format {
            MetricsFormat::Prometheus => {
                prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
            }
            MetricsFormat::OpenMetrics => {
                prometheus_client::encoding::text::encode(&mut text, &registry)
            }
        };
        if let Err(e) = encoded {
            tracing::error!(error = %e, "metrics could not be encoded");
        }
        text
    }
}
