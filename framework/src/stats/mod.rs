//! What one node counts: gauges of what it holds ([`Stats`]), its cross-node traffic
//! ([`BackplaneStats`]) and the counters behind `PREFIX/metrics` ([`Metrics`]).
//!
//! A leaf: everything else may report here, and this module depends on nothing above
//! the protocol's error codes.

#[cfg(feature = "metrics")]
mod exposition;
mod metrics;

pub(crate) use metrics::Metrics;

/// Counts of what one node holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Open connections.
    pub connections: usize,
    /// Distinct authenticated users among them.
    pub users: usize,
    /// Concrete channels with at least one subscriber.
    pub channels: usize,
    /// Subscriptions, summed over connections.
    pub subscriptions: usize,
    /// Channel listener actors running (one per active concrete channel).
    pub channel_actors: usize,
    /// Streams whose history this node keeps (freed once their `ttl` has passed).
    pub streams: usize,
    /// Bytes of that history (at most `history.max_bytes`).
    pub history_bytes: usize,
}

/// Counters of one node's backplane.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct BackplaneStats {
    /// `memory` or `redis` (`in-process` on the broker of the `testing` feature).
    pub kind: &'static str,
    /// Whether the node can reach the other nodes now.
    pub connected: bool,
    /// Messages published to other nodes.
    pub published: u64,
    /// Messages that could not be published (backplane down or queue full).
    pub publish_failed: u64,
    /// Messages received from other nodes.
    pub received: u64,
    /// Connections (re)established.
    pub connects: u64,
    /// Topics subscribed to now.
    pub subscriptions: u64,
}
