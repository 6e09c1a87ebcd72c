//! Who a send is for.

use std::sync::Arc;

use crate::ids::ConnectionId;

/// The recipients of one send, on this node and on every other: the local path and
/// the cross-node path route the same value.
///
/// ```text
/// Channel { name: "room.1", except: Some(sender) }  every subscriber but the sender
///                                                   (a connection, or all of a user's)
/// User { id: "alice", via: None }                     all of Alice's connections
/// User { id: "alice", via: Some("room.1") }           those subscribed to room.1
/// Connection(id)                                      one connection, wherever it is
/// Everyone                                            every connection of every node
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// The subscribers of a concrete channel, except one connection (usually the
    /// sender) or every connection of one user.
    Channel {
        name: Arc<str>,
        except: Option<Except>,
    },
    /// The connections of a user; with `via`, only those subscribed to that channel.
    User { id: Arc<str>, via: Option<Arc<str>> },
    /// One connection.
    Connection(ConnectionId),
    /// Every connection.
    Everyone,
}

/// Who a channel send leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Except {
    /// One connection.
    Connection(ConnectionId),
    /// Every connection of one user.
    User(Arc<str>),
}

impl Except {
    /// Whether the connection `id` of `user` is left out.
    pub(crate) fn excludes(&self, id: &ConnectionId, user: Option<&Arc<str>>) -> bool {
        match self {
            Self::Connection(except) => except == id,
            Self::User(except) => user == Some(except),
        }
    }
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
