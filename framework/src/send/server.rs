//! [`SocketServer`]: sending to connections, users, channels and everyone, from anywhere.

use std::sync::Arc;

use serde::Serialize;

use super::{Initiator, Raised, SendPath};
use crate::delivery::{Except, NotDelivered, Target};
use crate::ids::{ConnectionId, NodeId};
use crate::protocol::{self, Frame};
use crate::stats::{BackplaneStats, Stats};
use crate::transport::{Answer, Control, Topic};

/// Why a send did not reach its target.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The data could not be serialized to JSON.
    #[error("event `{event}`: data does not serialize to JSON: {source}")]
    Serialize {
        /// The event being sent.
        event: String,
        /// serde_json's reason.
        #[source]
        source: serde_json::Error,
    },
    /// No open connection has this id.
    #[error("no open connection `{0}`")]
    UnknownConnection(String),
    /// The connection's outbound queue was full; it is being closed (4008).
    #[error("connection `{0}` reads too slowly and is being closed")]
    SlowConsumer(String),
    /// The connection is closing.
    #[error("connection `{0}` is closing")]
    Closing(String),
    /// A channel send from a handler that has no channel (a socket listener).
    #[error("event `{0}`: there is no channel to broadcast on outside a channel listener")]
    NoChannel(String),
    /// The channel is not one of the listener's channels.
    #[error("channel `{channel}` does not match `{listener}`'s pattern `{pattern}`")]
    ChannelMismatch {
        /// The channel named.
        channel: String,
        /// The listener type.
        listener: &'static str,
        /// Its pattern.
        pattern: &'static str,
    },
    /// The node holding the connection did not answer in time (it or the backplane is
    /// unreachable or overloaded); the event may or may not have arrived.
    #[error("no answer about connection `{0}` from its node")]
    NoAnswer(String),
    /// A signal's channel or event holds a control character.
    #[error("not a channel and event to signal: {0}")]
    BadSignal(String),
    /// No server has been built in this process yet.
    #[error("no Switchboard server is running in this process")]
    NotRunning,
}

/// A cheap, cloneable handle to a running server.
///
/// Every send serializes its packet once; all recipients share the bytes.
#[derive(Debug, Clone)]
pub struct SocketServer {
    pub(super) path: Arc<SendPath>,
}

impl SocketServer {
    pub(crate) fn new(path: Arc<SendPath>) -> Self {
        Self { path }
    }

    /// This node's id.
    pub fn node_id(&self) -> &NodeId {
        &self.path.node
    }

    /// Sends a direct event (no `channel`) to one connection, on whichever node holds
    /// it. For a connection on another node, `Ok` means handed to the backplane; use
    /// [`confirm_send_to_connection`](Self::confirm_send_to_connection) to know more.
    pub fn send_to_connection<T: Serialize + ?Sized>(
        &self,
        connection_id: &str,
        event: &str,
        data: &T,
    ) -> Result<(), SendError> {
        match self.addressed(connection_id, event, data)? {
            Addressed::Here(id, frame) => self.deliver_here(&id, &frame),
            Addressed::Elsewhere(id, frame) => {
                self.path.backplane.publish(&Target::Connection(id), frame);
                Ok(())
            }
        }
    }

    /// Sends a direct event to one connection, on whichever node holds it, and
    /// resolves once that node said what became of it: `Ok` when delivered,
    /// [`SendError::UnknownConnection`] when no node has it (its node answered so, or
    /// is gone), [`SendError::NoAnswer`] when its node did not answer within 2 s.
    ///
    /// ```no_run
    /// # async fn run(server: switchboard::SocketServer) {
    /// match server.confirm_send_to_connection("n1-42", "kicked", &()).await {
    ///     Ok(()) => println!("delivered"),
    ///     Err(e) => println!("not delivered: {e}"),
    /// }
    /// # }
    /// ```
    pub async fn confirm_send_to_connection<T: Serialize + ?Sized>(
        &self,
        connection_id: &str,
        event: &str,
        data: &T,
    ) -> Result<(), SendError> {
        let (id, frame) = match self.addressed(connection_id, event, data)? {
            Addressed::Here(id, frame) => return self.deliver_here(&id, &frame),
            Addressed::Elsewhere(id, frame) => (id, frame),
        };
        let named = || connection_id.to_owned();
        match self.path.backplane.ask(&id, frame).await {
            Answer::Receipt(outcome) => outcome.map_err(|reason| refusal(reason, named())),
            Answer::NoNode => Err(SendError::UnknownConnection(named())),
            Answer::Unanswered => Err(SendError::NoAnswer(named())),
        }
    }

    /// Checks the id, encodes the packet, and says which node holds the connection.
    fn addressed<T: Serialize + ?Sized>(
        &self,
        connection_id: &str,
        event: &str,
        data: &T,
    ) -> Result<Addressed, SendError> {
        if connection_id.contains(char::is_control) {
            // No connection has such an id, and a newline would corrupt a cross-node header.
            return Err(SendError::UnknownConnection(connection_id.to_owned()));
        }
        let frame = encode(event, None, data)?;
        let id = ConnectionId::from(connection_id);
        let node = id.node();
        let elsewhere = !node.is_empty() && node != self.path.node.as_str();
        Ok(if elsewhere && self.path.backplane.spans_nodes() {
            Addressed::Elsewhere(id, frame)
        } else {
            Addressed::Here(id, frame)
        })
    }

    fn deliver_here(&self, id: &ConnectionId, frame: &Frame) -> Result<(), SendError> {
        self.path
            .delivery
            .deliver_to_connection(id, frame)
            .map_err(|reason| refusal(reason, id.as_str().to_owned()))
    }

    /// Authorises every subscription of `user_id`'s connections again, on every node:
    /// call it after changing what the user may see. A channel that now refuses them
    /// is left, and the client told with `unsubscribed` (reason `unauthorised`).
    /// Returns how many of the user's connections on this node were asked.
    ///
    /// ```no_run
    /// # fn run(server: switchboard::SocketServer) {
    /// // alice was removed from project 7: her sockets leave `project.7` wherever they are.
    /// server.reauthorise("alice");
    /// # }
    /// ```
    pub fn reauthorise(&self, user_id: &str) -> usize {
        let control = Control::Reauthorise {
            user: user_id.into(),
        };
        let here = self
            .path
            .controls
            .apply(&control, self.path.delivery.index());
        self.path
            .backplane
            .control(Topic::User(user_id.into()), control);
        here
    }

    /// Sends a direct event to every connection of one user (all their devices).
    /// Returns how many connections on this node it was handed to.
    ///
    /// With user streams on (`[history.users]`), the event carries the user stream's
    /// next `offset` and is kept, so a device that was offline gets it when it
    /// reconnects with `since_offset`/`since_epoch` (`docs/protocol.md`, "User streams").
    ///
    /// ```no_run
    /// # fn run(server: switchboard::SocketServer) -> Result<(), switchboard::SendError> {
    /// server.send_to_user("alice", "notification", &serde_json::json!({ "text": "shipped" }))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_to_user<T: Serialize + ?Sized>(
        &self,
        user_id: &str,
        event: &str,
        data: &T,
    ) -> Result<usize, SendError> {
        let frame = encode(event, None, data)?;
        Ok(self.path.send(Target::user(user_id), frame))
    }

    /// Sends `event` on `channel` to the connections of `user_id` subscribed to it
    /// (what [`Self::send_to_user_via_channel`] does once it checked the channel).
    pub(crate) fn send_to_user_on_channel<T: Serialize + ?Sized>(
        &self,
        user_id: &str,
        channel: &str,
        event: &str,
        data: &T,
    ) -> Result<usize, SendError> {
        let frame = encode(event, Some(channel), data)?;
        let target = Target::User {
            id: user_id.into(),
            via: Some(channel.into()),
        };
        Ok(self.path.send(target, frame))
    }

    /// Sends `event` on `channel` to every subscriber; returns how many on this node
    /// it was handed to.
    pub fn broadcast<T: Serialize + ?Sized>(
        &self,
        channel: &str,
        event: &str,
        data: &T,
    ) -> Result<usize, SendError> {
        let frame = encode(event, Some(channel), data)?;
        Ok(self.path.send(Target::channel(channel), frame))
    }

    /// Like [`Self::broadcast`], but skips the connection `except` (usually the sender).
    pub fn broadcast_except<T: Serialize + ?Sized>(
        &self,
        channel: &str,
        except: &str,
        event: &str,
        data: &T,
    ) -> Result<usize, SendError> {
        let frame = encode(event, Some(channel), data)?;
        let target = Target::Channel {
            name: channel.into(),
            except: Some(Except::Connection(ConnectionId::from(except))),
        };
        Ok(self.path.send(target, frame))
    }

    /// Sends a direct event to every connection of every node (an announcement);
    /// returns how many on this node it was handed to.
    pub fn send_to_everyone<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<usize, SendError> {
        let frame = encode(event, None, data)?;
        Ok(self.path.send(Target::Everyone, frame))
    }

    /// Tells every subscriber of `channel` that what they show has changed, so they
    /// re-fetch it: sends `event` with `{"at": MS, "count": N}` (milliseconds since the
    /// Unix epoch of the last change, and how many changes it stands for). Signals of one
    /// event on one channel within `signals.coalesce_ms` (default 50) go out as one, at
    /// the end of that window; on a stream channel it also carries the `offset`.
    ///
    /// ```no_run
    /// # fn run(server: switchboard::SocketServer) -> Result<(), switchboard::SendError> {
    /// // after saving receipt 42: every page showing it re-fetches it
    /// server.signal("receipt.42", "receipt-changed")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn signal(&self, channel: &str, event: &str) -> Result<(), SendError> {
        self.signal_except(channel, event, &Initiator::none())
    }

    /// Like [`Self::signal`], leaving out the connection whose action caused the change
    /// (it shows what it wrote already); see [`Initiator`].
    pub fn signal_except(
        &self,
        channel: &str,
        event: &str,
        initiator: &Initiator,
    ) -> Result<(), SendError> {
        self.raise(channel, event, initiator.except(false))
    }

    /// Like [`Self::signal_except`], leaving out every connection of the initiator's
    /// user (all their tabs and devices) rather than the one connection; an anonymous
    /// initiator's connection alone.
    pub fn signal_except_user(
        &self,
        channel: &str,
        event: &str,
        initiator: &Initiator,
    ) -> Result<(), SendError> {
        self.raise(channel, event, initiator.except(true))
    }

    fn raise(&self, channel: &str, event: &str, except: Option<Except>) -> Result<(), SendError> {
        if channel.contains(char::is_control) || event.contains(char::is_control) {
            return Err(SendError::BadSignal(format!("{channel:?} {event:?}")));
        }
        let raised = Raised::new(channel, event, except);
        self.path.signals.raise(&self.path, raised);
        Ok(())
    }

    /// The backplane's counters: publishes, failures, reconnects, subscriptions.
    pub fn backplane_stats(&self) -> BackplaneStats {
        self.path.backplane.stats()
    }

    /// Counts of connections, users and channels on this node.
    pub fn stats(&self) -> Stats {
        let (streams, history_bytes) = self.path.streams.history.size();
        Stats {
            channel_actors: self.path.delivery.metrics().channel_actors(),
            streams,
            history_bytes,
            ..self.path.delivery.index().stats()
        }
    }

    /// Subscribers per concrete channel on this node.
    #[cfg(feature = "http-api")]
    pub(crate) fn subscriber_counts(&self) -> std::collections::BTreeMap<String, usize> {
        self.path.delivery.index().subscriber_counts()
    }
}

/// Where a send to one connection goes, encoded.
enum Addressed {
    Here(ConnectionId, Frame),
    Elsewhere(ConnectionId, Frame),
}

fn refusal(reason: NotDelivered, connection: String) -> SendError {
    match reason {
        NotDelivered::Unknown => SendError::UnknownConnection(connection),
        NotDelivered::SlowConsumer => SendError::SlowConsumer(connection),
        NotDelivered::Closed => SendError::Closing(connection),
    }
}

fn encode<T: Serialize + ?Sized>(
    event: &str,
    channel: Option<&str>,
    data: &T,
) -> Result<Frame, SendError> {
    protocol::encode(event, channel, data).map_err(|source| SendError::Serialize {
        event: event.to_owned(),
        source,
    })
}
