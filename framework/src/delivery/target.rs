//! Who a send is for.

use std::sync::Arc;

use crate::ids::ConnectionId;

/// The recipients of one send, on this node and on every other: the local path and
/// the cross-node path route the same value.
///
/// ```text
/// Channel { name: "room.1", except: Some(sender) }  every subscriber but the sender
/// User { id: "alice", via: None }                     all of Alice's connections
/// User { id: "alice", via: Some("room.1") }           those subscribed to room.1
/// Connection(id)                                      one connection, wherever it is
/// Everyone                                            every connection of every node
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// The subscribers of a concrete channel, except one connection (usually the sender).
    Channel {
        name: Arc<str>,
        except: Option<ConnectionId>,
    },
    /// The connections of a user; with `via`, only those subscribed to that channel.
    User { id: Arc<str>, via: Option<Arc<str>> },
    /// One connection.
    Connection(ConnectionId),
    /// Every connection.
    Everyone,
}

impl Target {
    /// Every subscriber of `name`.
    pub(crate) fn channel(name: &str) -> Self {
        Self::Channel {
            name: name.into(),
            except: None,
        }
    }

    /// Every connection of user `id`.
    pub(crate) fn user(id: &str) -> Self {
        Self::User {
            id: id.into(),
            via: None,
        }
    }
}
