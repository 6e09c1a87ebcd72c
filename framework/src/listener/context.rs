use std::any::Any;
use std::sync::Arc;

use serde::Serialize;

use crate::delivery::Outbox;
use crate::ids::ConnectionId;
use crate::protocol;
use crate::send::{SendError, SocketServer};

/// The authenticated user of a connection: its id and the application's own model,
/// type-erased here and downcast where a hook or event asks for it.
#[derive(Clone)]
pub(crate) struct SessionUser {
    pub(crate) id: Arc<str>,
    pub(crate) model: Arc<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for SessionUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionUser")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A concrete channel and the values its pattern's wildcards matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChannelRef {
    pub(crate) name: Arc<str>,
    pub(crate) params: Params,
}

/// Values matched by a pattern's wildcards, by name (`{id}`) and by position (`*`).
///
/// ```
/// # use switchboard::Params;
/// let params = Params::from_pairs([(Some("id"), "42"), (None, "x")]);
/// assert_eq!(params.get("id"), Some("42"));
/// assert_eq!(params.get_index(1), Some("x"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Arc<[Param]>);

/// One wildcard's optional name and its value.
type Param = (Option<Box<str>>, Box<str>);

impl Params {
    /// Builds params from `(name, value)` pairs in wildcard order.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (Option<&'a str>, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(name, value)| (name.map(Box::from), Box::from(value)))
                .collect(),
        )
    }

    /// The value of the named wildcard `{name}`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.as_deref() == Some(name))
            .map(|(_, v)| &**v)
    }

    /// The value of the `index`-th wildcard, named or not.
    pub fn get_index(&self, index: usize) -> Option<&str> {
        self.0.get(index).map(|(_, v)| &**v)
    }

    /// How many wildcards matched.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for an exact pattern (no wildcard).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Who is asking: the connection, its user, and the channel concerned (if any).
#[derive(Debug, Clone)]
pub struct Connection {
    pub(crate) id: ConnectionId,
    pub(crate) user: Option<SessionUser>,
    pub(crate) channel: Option<ChannelRef>,
}

impl Connection {
    /// The connection id.
    pub fn id(&self) -> &ConnectionId {
        &self.id
    }

    /// The authenticated user's id; `None` for an anonymous connection.
    pub fn user_id(&self) -> Option<&str> {
        self.user.as_ref().map(|u| &*u.id)
    }

    /// The authenticated user as the application's type `U`; `None` when anonymous
    /// (or when the resolver produced another type).
    pub fn user<U: Any>(&self) -> Option<&U> {
        self.user.as_ref()?.model.downcast_ref()
    }

    /// The concrete channel concerned, e.g. `user:chat.42`.
    pub fn channel(&self) -> Option<&str> {
        self.channel.as_ref().map(|c| &*c.name)
    }

    /// A wildcard value of the channel's pattern: `param("id")` is `42` for
    /// `user:chat.{id}` on `user:chat.42`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.channel.as_ref()?.params.get(name)
    }

    /// All wildcard values of the channel's pattern.
    pub fn params(&self) -> Option<&Params> {
        self.channel.as_ref().map(|c| &c.params)
    }
}

/// What an event handler can do: see who sent the event and send packets.
#[derive(Debug, Clone)]
pub struct EventContext {
    pub(crate) connection: Connection,
    pub(crate) event: Arc<str>,
    pub(crate) server: SocketServer,
    pub(crate) outbox: Outbox,
}

impl EventContext {
    /// The sender's connection, user and channel.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The sender's connection id.
    pub fn connection_id(&self) -> &ConnectionId {
        &self.connection.id
    }

    /// The sender's user as the application's type `U`.
    pub fn user<U: Any>(&self) -> Option<&U> {
        self.connection.user()
    }

    /// The concrete channel of a channel event; `None` for a socket listener.
    pub fn channel(&self) -> Option<&str> {
        self.connection.channel()
    }

    /// A wildcard value of the channel's pattern.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.connection.param(name)
    }

    /// The event being handled.
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The server handle, to send anywhere else.
    pub fn server(&self) -> &SocketServer {
        &self.server
    }

    /// Sends `event` to every subscriber of this channel, the sender included.
    /// Returns how many connections on this node accepted it.
    pub fn broadcast<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<usize, SendError> {
        self.server
            .broadcast(self.require_channel(event)?, event, data)
    }

    /// Sends `event` to every subscriber of this channel except the sender.
    pub fn broadcast_except_sender<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<usize, SendError> {
        let channel = self.require_channel(event)?;
        self.server
            .broadcast_except(channel, self.connection.id.as_str(), event, data)
    }

    /// Signals this channel's subscribers, except the sender, that what they show has
    /// changed (see [`SocketServer::signal`]): the sender caused it and knows.
    pub fn signal(&self, event: &str) -> Result<(), SendError> {
        let channel = self.require_channel(event)?;
        let user = self.connection.user.as_ref().map(|u| u.id.clone());
        let initiator = crate::send::Initiator::trusted(self.connection.id.clone(), user);
        self.server.signal_except(channel, event, &initiator)
    }

    /// Sends `event` to the sender only: on this channel for a channel event, as a
    /// direct packet for a socket listener.
    pub fn reply<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), SendError> {
        let frame = protocol::encode(event, self.channel(), data).map_err(|source| {
            SendError::Serialize {
                event: event.to_owned(),
                source,
            }
        })?;
        self.outbox
            .push(&frame)
            .map_err(|_| SendError::Closing(self.connection.id.to_string()))
    }

    fn require_channel(&self, event: &str) -> Result<&str, SendError> {
        self.channel()
            .ok_or_else(|| SendError::NoChannel(event.to_owned()))
    }
}
