//! How a send reaches sessions on other nodes.
//!
//! Every send is delivered to this node's sessions directly, then handed to the
//! backplane, which carries it to the other nodes. With the in-memory backplane (one
//! node) that second step does nothing; with Redis it publishes the already-serialized
//! packet once, to a topic only the nodes that need it subscribe to:
//!
//! | topic | who subscribes | carries |
//! |---|---|---|
//! | `PREFIX:ch:CHANNEL` | nodes with a local subscriber of that concrete channel | broadcasts |
//! | `PREFIX:user:ID` | nodes with a local connection of that user | sends to a user |
//! | `PREFIX:node:NODE` | that node only | sends to one connection (ids start with the node) |
//!
//! So a node's Redis subscriptions grow with what its own sessions joined (one per
//! distinct channel and user), and a message reaches only nodes that can deliver it.
//! Nodes ignore their own publications, so every session receives a message once.
//!
//! Delivery across nodes is at most once: while Redis is unreachable, local delivery
//! goes on, cross-node publishes are dropped and counted, and the node reconnects
//! with backoff and restores its subscriptions by itself.

mod envelope;
mod memory;
mod redis;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub(crate) use envelope::Envelope;
pub(crate) use memory::Memory;
pub(crate) use redis::RedisBackplane;

use crate::config::{BackplaneKind, BackplaneSettings};
use crate::ids::NodeId;
use crate::index::Index;

/// Where a message is addressed, across nodes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Topic {
    Channel(Arc<str>),
    User(Arc<str>),
    Node(Arc<str>),
}

/// Counters of one node's backplane.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct BackplaneStats {
    /// `memory` or `redis`.
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

/// Resolves once the backplane has made a topic subscription match the index (or
/// cannot now); the session answers a subscribe after it, so a client told
/// "subscribed" already receives from every node.
pub(crate) type Synced = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Carries sends between nodes.
pub(crate) trait Backplane: Send + Sync + std::fmt::Debug {
    /// Hands a message to the other nodes; never waits.
    fn publish(&self, topic: Topic, envelope: Envelope);

    /// Makes the subscription to `topic` match whether this node still needs it.
    fn sync(&self, topic: Topic) -> Synced;

    /// Counters.
    fn stats(&self) -> BackplaneStats;

    /// Whether other nodes can exist (false for the in-memory backplane).
    fn spans_nodes(&self) -> bool;

    /// Leaves cleanly: publishes what is queued (bounded by a timeout) and disconnects.
    fn close(&self) -> Synced;
}

/// The backplane `[backplane]` asks for.
pub(crate) fn from_settings(
    settings: &BackplaneSettings,
    node: NodeId,
    index: Arc<Index>,
) -> Result<Box<dyn Backplane>, crate::config::ConfigError> {
    Ok(match settings.kind {
        BackplaneKind::Memory => Box::new(Memory),
        BackplaneKind::Redis => Box::new(RedisBackplane::start(settings, node, index)?),
    })
}
