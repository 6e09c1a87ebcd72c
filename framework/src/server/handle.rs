//! [`SocketServer`]: sending to connections, users and channels from anywhere.

use std::sync::Arc;

use serde::Serialize;

use super::Core;
use crate::backplane::{BackplaneStats, Envelope, Topic};
use crate::ids::{ConnectionId, NodeId};
use crate::index::Stats;
use crate::listener::ChannelListener;
use crate::protocol::{self, Frame};
use crate::session::Undeliverable;

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
    /// No server has been built in this process yet.
    #[error("no Switchboard server is running in this process")]
    NotRunning,
}

/// A cheap, cloneable handle to a running server.
///
/// Every send serializes its packet once; all recipients share the bytes.
#[derive(Debug, Clone)]
pub struct SocketServer {
    core: Arc<Core>,
}

impl SocketServer {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// This node's id.
    pub fn node_id(&self) -> &NodeId {
        self.core.ids.node()
    }

    /// Hands a send to the other nodes (after it was delivered here).
    fn publish(
        &self,
        topic: Topic,
        frame: Frame,
        target: Option<&str>,
        except: Option<&str>,
        only_on: Option<&str>,
    ) {
        let envelope = Envelope {
            origin: self.core.ids.node().as_str().to_owned(),
            target: target.map(str::to_owned),
            except: except.map(str::to_owned),
            only_on: only_on.map(str::to_owned),
            frame,
        };
        self.core.backplane.publish(topic, envelope);
    }

    /// Sends a direct event (no `channel`) to one connection, on whichever node holds
    /// it. For a connection on another node, `Ok` means handed to the backplane.
    pub fn send_to_connection<T: Serialize + ?Sized>(
        &self,
        connection_id: &str,
        event: &str,
        data: &T,
    ) -> Result<(), SendError> {
        let frame = encode(event, None, data)?;
        let node = ConnectionId::from(connection_id).node().to_owned();
        let elsewhere = !node.is_empty() && node != self.core.ids.node().as_str();
        if elsewhere && self.core.backplane.spans_nodes() {
            self.publish(
                Topic::Node(node.into()),
                frame,
                Some(connection_id),
                None,
                None,
            );
            return Ok(());
        }
        self.core
            .index
            .send_to_connection(connection_id, frame)
            .map_err(|reason| match reason {
                None => SendError::UnknownConnection(connection_id.to_owned()),
                Some(Undeliverable::SlowConsumer) => {
                    SendError::SlowConsumer(connection_id.to_owned())
                }
                Some(Undeliverable::Closed) => SendError::Closing(connection_id.to_owned()),
            })
    }

    /// Sends a direct event to every connection of one user (all their devices).
    /// Returns how many connections accepted it.
    pub fn send_to_user<T: Serialize + ?Sized>(
        &self,
        user_id: &str,
        event: &str,
        data: &T,
    ) -> Result<usize, SendError> {
        let frame = encode(event, None, data)?;
        let delivered = self.core.index.send_to_user(user_id, &frame);
        self.publish(Topic::User(user_id.into()), frame, None, None, None);
        Ok(delivered)
    }

    /// Sends `event` on `channel` (a channel of listener `L`) to the connections of
    /// `user_id` subscribed to it. Naming the listener catches a misspelt channel family.
    pub fn send_to_user_via_channel<L: ChannelListener, T: Serialize + ?Sized>(
        &self,
        user_id: &str,
        channel: &str,
        event: &str,
        data: &T,
    ) -> Result<usize, SendError> {
        let matches = switchboard_pattern::Pattern::parse(L::PATTERN)
            .is_ok_and(|pattern| pattern.matches(channel).is_some());
        if !matches {
            return Err(SendError::ChannelMismatch {
                channel: channel.to_owned(),
                listener: L::NAME,
                pattern: L::PATTERN,
            });
        }
        let frame = encode(event, Some(channel), data)?;
        let delivered = self
            .core
            .index
            .send_to_user_on_channel(user_id, channel, &frame);
        self.publish(
            Topic::User(user_id.into()),
            frame,
            None,
            None,
            Some(channel),
        );
        Ok(delivered)
    }

    /// Sends `event` on `channel` to every subscriber; returns how many accepted it.
    pub fn broadcast<T: Serialize + ?Sized>(
        &self,
        channel: &str,
        event: &str,
        data: &T,
    ) -> Result<usize, SendError> {
        let frame = encode(event, Some(channel), data)?;
        let delivered = self.core.index.broadcast(channel, &frame, None);
        self.publish(Topic::Channel(channel.into()), frame, None, None, None);
        Ok(delivered)
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
        let delivered = self.core.index.broadcast(channel, &frame, Some(except));
        self.publish(
            Topic::Channel(channel.into()),
            frame,
            None,
            Some(except),
            None,
        );
        Ok(delivered)
    }

    /// The backplane's counters: publishes, failures, reconnects, subscriptions.
    pub fn backplane_stats(&self) -> BackplaneStats {
        self.core.backplane.stats()
    }

    /// Every counter in Prometheus' text format (what `[metrics]` serves).
    pub fn metrics(&self) -> String {
        self.core
            .metrics
            .render(&self.stats(), &self.backplane_stats())
    }

    /// Counts of connections, users and channels on this node.
    pub fn stats(&self) -> Stats {
        Stats {
            channel_actors: self.core.channels.len(),
            ..self.core.index.stats()
        }
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
