//! Identities of nodes and connections.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One server process. Connection ids start with it, so a message for a connection
/// can be routed to the node that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeId(Arc<str>);

impl NodeId {
    /// A fresh random id (48 bits, hex).
    pub fn random() -> Self {
        // RandomState is seeded from the OS per process: enough to tell nodes apart
        // without another dependency.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        Self(format!("{:012x}", h.finish() & 0xffff_ffff_ffff).into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One WebSocket connection: `NODE-SEQ`, unique across nodes.
///
/// ```
/// # use switchboard::ConnectionId;
/// let id = ConnectionId::from("4f2a9c1b7e00-17");
/// assert_eq!(id.node(), "4f2a9c1b7e00");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(Arc<str>);

impl ConnectionId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The node part of the id.
    pub fn node(&self) -> &str {
        self.0.rsplit_once('-').map_or("", |(node, _)| node)
    }
}

impl From<&str> for ConnectionId {
    fn from(id: &str) -> Self {
        Self(id.into())
    }
}

impl Borrow<str> for ConnectionId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for ConnectionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Hands out connection ids for one node.
#[derive(Debug)]
pub(crate) struct ConnectionIds {
    node: NodeId,
    next: AtomicU64,
}

impl ConnectionIds {
    pub(crate) fn new(node: NodeId) -> Self {
        Self {
            node,
            next: AtomicU64::new(1),
        }
    }

    pub(crate) fn next(&self) -> ConnectionId {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        ConnectionId(format!("{}-{seq}", self.node).into())
    }
}
