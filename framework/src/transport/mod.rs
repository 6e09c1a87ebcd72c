//! How a send reaches sessions on other nodes.
//!
//! Every send is delivered to this node's sessions directly, then handed to the
//! [`Backplane`], which carries it to the other nodes. With the in-memory default (one
//! node) that second step does nothing; with a [`Transport`] (Redis) it publishes the
//! already-serialized packet once, to a topic only the nodes that need it subscribe to:
//!
//! | topic | who subscribes | carries |
//! |---|---|---|
//! | `PREFIX:ch:CHANNEL` | nodes with a local subscriber of that concrete channel | broadcasts |
//! | `PREFIX:user:ID` | nodes with a local connection of that user | sends to a user |
//! | `PREFIX:node:NODE` | that node only | sends to one connection (ids start with the node) |
//! | `PREFIX:all` | every node | sends to every connection |
//!
//! So a node's subscriptions grow with what its own sessions joined (one per distinct
//! channel and user), and a message reaches only nodes that can deliver it. Nodes
//! ignore their own publications, so every session receives a message once.
//!
//! The split: `bridge` is what every transport needs (topic names, keeping the
//! transport's subscriptions equal to the index's interest, delivering what arrives,
//! reconnecting with backoff, counters); a [`Transport`] only connects, subscribes,
//! unsubscribes, publishes and yields what arrives. `redis` is one such transport;
//! `memory` (cargo feature `testing`) is another, a broker inside the process for
//! tests; a third (NATS, Redis Cluster's sharded pub/sub) is a file of the same size.
//!
//! Streams (channels with positions and history) are storage the broker keeps
//! atomically with the publish, so they are methods of [`Link`] a transport implements
//! with its own primitives (a Lua script on Redis); the bridge keeps what is common:
//! delivering in the broker's order, repairing gaps from history, reading for
//! subscribes (`bridge/streams.rs`). Presence has the same shape: each node's counts
//! per channel and user, held under a lease, with joins and leaves decided and
//! published by the broker in one atomic step (`bridge/presence.rs`, a Lua script on
//! Redis, `memory/presence.rs` in the in-process broker).
//!
//! Delivery across nodes is at most once for plain channels: while the transport is
//! unreachable, local delivery goes on, cross-node publishes are dropped and counted,
//! and the node reconnects and restores its subscriptions by itself. A stream's
//! subscribers get every publication Redis positioned, or a `resync`.

mod backoff;
#[cfg(feature = "postgres")]
pub(crate) use backoff::Backoff;
// Without a transport to drive, the bridge is built but never started.
#[cfg_attr(not(any(feature = "redis", feature = "testing")), allow(dead_code))]
mod bridge;
mod control;
mod envelope;
#[cfg(feature = "testing")]
pub(crate) mod memory; // the in-process broker of `switchboard::testing`
#[cfg(feature = "redis")]
mod redis;
mod topic;

use std::future::Future;
use std::pin::Pin;

use std::sync::Arc;

use futures_util::Stream;

pub(crate) use bridge::{Answer, Backplane};
pub(crate) use control::{Closing, Control, Who};
pub(crate) use envelope::Envelope;
pub(crate) use topic::Topic;

use crate::config::{BackplaneKind, BackplaneSettings, ConfigError};
use crate::delivery::Delivery;
use crate::ids::NodeId;
use crate::presence::{LocalPresence, PresenceMode, Snapshot};
use crate::stream::HistorySpec;

/// Why a transport operation failed; the bridge reconnects after any of them.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {reason}")]
pub(crate) struct TransportError {
    /// The operation (`connect`, `subscribe`, `publish`, ...).
    pub(crate) what: &'static str,
    pub(crate) reason: String,
}

impl TransportError {
    pub(crate) fn new(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Self {
            what,
            reason: reason.to_string(),
        }
    }
}

/// One message that arrived on a subscribed topic.
#[derive(Debug)]
pub(crate) struct Arrival {
    /// The topic's full name.
    pub(crate) topic: String,
    pub(crate) payload: Vec<u8>,
}

/// What arrives on a link, in order; the stream ends when the link is lost.
pub(crate) type Arrivals = Pin<Box<dyn Stream<Item = Arrival>>>;

/// A message broker that carries sends between nodes: Redis pub/sub, or another
/// (NATS, Redis Cluster's sharded pub/sub) in a file of its own.
///
/// The bridge calls it from one thread of its own; nothing here needs to be `Sync`,
/// and its futures need not be `Send`.
pub(crate) trait Transport: Send + 'static {
    /// An open connection to the broker.
    type Link: Link;

    /// `memory`, `redis`, ...: the `kind` in the backplane's stats.
    const KIND: &'static str;

    /// Opens a link, and the stream of what arrives on its subscriptions.
    fn connect(&mut self) -> impl Future<Output = Result<(Self::Link, Arrivals), TransportError>>;
}

/// An open connection to the broker (see [`Transport`]).
pub(crate) trait Link {
    /// Starts receiving on `topics` (full names).
    fn subscribe(&mut self, topics: &[String]) -> impl Future<Output = Result<(), TransportError>>;

    /// Stops receiving on `topics`.
    fn unsubscribe(
        &mut self,
        topics: &[String],
    ) -> impl Future<Output = Result<(), TransportError>>;

    /// Publishes a batch of `(topic, payload)` in order, in as few round trips as the
    /// broker allows; resolves with how many subscribers received each message (a
    /// send to a node nobody listens for is a send to a node that is gone).
    fn publish(
        &mut self,
        batch: &[(String, Vec<u8>)],
    ) -> impl Future<Output = Result<Vec<u64>, TransportError>>;

    /// For each publication, atomically: gives it the next offset of its stream
    /// (starting `new_epoch` when the stream has none), appends it to the stream's
    /// history (the last `spec.size()`, all expiring `spec.ttl()` after this one) and
    /// publishes `sb1 at=OFFSET EPOCH`, a newline and `rest` on `topic`. Two nodes
    /// publishing at once can never share an offset or leave one out.
    fn publish_streams(
        &mut self,
        batch: &[StreamPublish],
    ) -> impl Future<Output = Result<(), TransportError>>;

    /// A stream's position (starting `new_epoch`, kept for `ttl`, when it has none)
    /// and, with `history`, the publications it keeps.
    fn read_stream(
        &mut self,
        keys: &StreamKeys,
        new_epoch: &str,
        ttl: std::time::Duration,
        history: bool,
    ) -> impl Future<Output = Result<StreamLog, TransportError>>;

    /// Records, for each update, node `node`'s connection count of one user on one
    /// presence channel (absolute: sending it twice changes nothing) and, atomically
    /// with it, when that made the user's first connection anywhere or took away their
    /// last, publishes the update's `join` or `leave` envelope on its topic (members
    /// mode only). Keys live under `prefix`.
    fn presence_update(
        &mut self,
        prefix: &str,
        node: &str,
        batch: &[PresenceUpdate],
    ) -> impl Future<Output = Result<(), TransportError>>;

    /// Renews node `node`'s lease for `lease` from now (by the broker's clock);
    /// resolves with whether the node still held one. `false` means the broker has
    /// none of its counts (first start, the broker restarted, or another node claimed
    /// them after the lease ran out): the node hands them all over again.
    fn presence_renew(
        &mut self,
        prefix: &str,
        node: &str,
        lease: std::time::Duration,
    ) -> impl Future<Output = Result<bool, TransportError>>;

    /// Claims the counts of every node whose lease ran out (the first node to do so
    /// takes them all, atomically), publishing the leave of each user who had no
    /// connection elsewhere; with `only`, that node's counts, lease or not (a node
    /// leaving cleanly releases its own).
    fn presence_claim(
        &mut self,
        prefix: &str,
        only: Option<&str>,
    ) -> impl Future<Output = Result<(), TransportError>>;

    /// A channel's presence, every node together.
    fn presence_read(
        &mut self,
        prefix: &str,
        channel: &str,
        mode: PresenceMode,
    ) -> impl Future<Output = Result<Snapshot, TransportError>>;
}

/// One node's connection count of one user on one presence channel, for the broker
/// (see [`Link::presence_update`]).
#[derive(Debug)]
#[cfg_attr(not(any(feature = "redis", feature = "testing")), allow(dead_code))] // read by a transport
pub(crate) struct PresenceUpdate {
    pub(crate) channel: Arc<str>,
    /// The channel's topic name.
    pub(crate) topic: String,
    pub(crate) user: Arc<str>,
    pub(crate) mode: PresenceMode,
    pub(crate) connections: u64,
    /// The user's `info` as JSON; empty for none.
    pub(crate) info: String,
    /// The envelopes to publish when the user arrives or departs cluster-wide.
    pub(crate) join: Vec<u8>,
    pub(crate) leave: Vec<u8>,
}

/// How the bridge keeps presence: this node's counts, and its lease on the broker.
#[derive(Debug, Clone)]
pub(crate) struct PresenceLease {
    pub(crate) local: Arc<LocalPresence>,
    pub(crate) lease: std::time::Duration,
}

/// A publication on a stream, for the broker to position, keep and publish (see
/// [`Link::publish_streams`]).
#[derive(Debug)]
#[cfg_attr(not(any(feature = "redis", feature = "testing")), allow(dead_code))] // read by a transport
pub(crate) struct StreamPublish {
    /// The channel's topic name.
    pub(crate) topic: String,
    pub(crate) keys: StreamKeys,
    /// The envelope after its first line (see `envelope.rs`).
    pub(crate) rest: Vec<u8>,
    pub(crate) spec: HistorySpec,
    /// The epoch to start when the stream has none (new, expired, or lost).
    pub(crate) new_epoch: Arc<str>,
}

/// Where the broker keeps one stream: its position, and its history.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))] // read by a transport
pub(crate) struct StreamKeys {
    pub(crate) position: String,
    pub(crate) history: String,
}

/// A stream as the broker keeps it.
#[derive(Debug)]
pub(crate) struct StreamLog {
    pub(crate) offset: u64,
    pub(crate) epoch: Arc<str>,
    /// `OFFSET\n` and an envelope's rest, oldest first (when asked for).
    pub(crate) entries: Vec<Vec<u8>>,
}

/// Where a [`Control`] from another node goes: the node's sessions, which this layer
/// does not know. Returns how many sessions it was handed to (a receipt says whether
/// any was).
pub(crate) type ControlSink = std::sync::Arc<dyn Fn(Control) -> usize + Send + Sync>;

/// The backplane `[backplane]` asks for.
#[cfg_attr(not(feature = "redis"), allow(unused_variables))]
pub(crate) fn from_settings(
    settings: &BackplaneSettings,
    node: NodeId,
    delivery: Delivery,
    controls: ControlSink,
    presence: PresenceLease,
) -> Result<Backplane, ConfigError> {
    Ok(match settings.kind {
        BackplaneKind::Memory => Backplane::memory(),
        #[cfg(not(feature = "redis"))]
        BackplaneKind::Redis => {
            return Err(ConfigError::missing_feature("backplane.kind", "redis"));
        }
        #[cfg(feature = "redis")]
        BackplaneKind::Redis => {
            let transport = redis::RedisTransport::new(settings.url.expose()).map_err(|e| {
                ConfigError::setting("backplane.url", format!("not a Redis URL: {e}"))
            })?;
            Backplane::start(transport, settings, node, delivery, controls, presence)?
        }
    })
}
