//! Presence across nodes, the bridge's side: hands this node's changed counts to the
//! broker (which decides joins and leaves atomically and publishes them on the
//! channel's topic, so every node delivers them in order with the channel's other
//! messages), renews this node's lease every third of its length, claims the counts of
//! nodes whose lease ran out, and answers `presence-request` reads.
//!
//! Counts are absolute, so whatever is in doubt is simply sent again: after a reconnect
//! what changed meanwhile is still marked changed, and when the lease was lost (the
//! broker restarted, or this node was cut off long enough for another to claim its
//! counts) every count is.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tracing::warn;

use super::{Bridge, PUBLISH_BATCH, timed};
use crate::delivery::Target;
use crate::presence::{self, PresenceMode, Snapshot, Update};
use crate::protocol::Frame;
use crate::transport::{Envelope, Link, PresenceUpdate, Topic, Transport, TransportError};

/// A session's `presence-request`, for the broker.
pub(in crate::transport) struct PresenceRead {
    pub(super) channel: Arc<str>,
    pub(super) mode: PresenceMode,
    /// `None` when the broker could not be asked.
    pub(super) reply: oneshot::Sender<Option<Snapshot>>,
}

/// The lease is renewed three times per lease: two renewals can be late or lost
/// before anyone counts the node as gone.
pub(super) fn renewals(lease: Duration) -> tokio::time::Interval {
    let period = (lease / 3).max(Duration::from_millis(100));
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval
}

impl<T: Transport> Bridge<T> {
    /// Renews the lease (handing every count over again when it was lost), hands over
    /// what changed, then claims the counts of nodes whose lease ran out.
    pub(super) async fn tend_presence(&mut self, link: &mut T::Link) -> Result<(), TransportError> {
        let (prefix, node) = (self.names.prefix(), self.node.as_str());
        let held = timed(link.presence_renew(prefix, node, self.presence.lease)).await?;
        if !held {
            self.presence.local.mark_all();
        }
        self.flush_presence(link).await?;
        timed(link.presence_claim(self.names.prefix(), None)).await
    }

    /// Hands the counts changed since the last time to the broker; on failure they
    /// stay marked, for the next link.
    pub(super) async fn flush_presence(
        &mut self,
        link: &mut T::Link,
    ) -> Result<(), TransportError> {
        let local = self.presence.local.clone();
        let changes = local.take_changes();
        let mut sent = 0;
        while sent < changes.len() {
            let chunk = &changes[sent..changes.len().min(sent + PUBLISH_BATCH)];
            let updates: Vec<PresenceUpdate> = chunk
                .iter()
                .filter_map(|c| self.presence_update(c))
                .collect();
            let prefix = self.names.prefix();
            if let Err(why) =
                timed(link.presence_update(prefix, self.node.as_str(), &updates)).await
            {
                local.give_back(changes[sent..].to_vec());
                return Err(why);
            }
            sent += chunk.len();
        }
        Ok(())
    }

    /// What the broker's script is handed for one changed count; `None` (logged) when
    /// the packets cannot be written, which only a name with a newline could cause.
    fn presence_update(&self, change: &Update) -> Option<PresenceUpdate> {
        let channel = &change.channel;
        let user = &*change.user;
        let envelope = |frame: Result<Frame, serde_json::Error>| {
            Envelope {
                origin: presence::BROKER_ORIGIN.to_owned(),
                target: Target::channel(channel),
                frame: frame.ok()?,
                ask: None,
                at: None,
            }
            .encode()
        };
        let join = envelope(presence::join_frame(channel, user, change.info.as_ref()));
        let leave = envelope(presence::leave_frame(channel, user));
        let (Some(join), Some(leave)) = (join, leave) else {
            warn!(channel = %channel, user, "presence packets cannot be written: not shared");
            return None;
        };
        Some(PresenceUpdate {
            channel: channel.clone(),
            topic: self.names.of(&Topic::Channel(channel.clone())),
            user: change.user.clone(),
            mode: change.mode,
            connections: change.connections,
            info: change
                .info
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            join,
            leave,
        })
    }

    /// Answers a `presence-request`: after handing over this node's own changes, so
    /// a client sees itself once its subscription was confirmed.
    pub(super) async fn answer_presence(
        &mut self,
        link: &mut T::Link,
        request: PresenceRead,
    ) -> Result<(), TransportError> {
        if let Err(why) = self.flush_presence(link).await {
            let _ = request.reply.send(None);
            return Err(why);
        }
        let read = link.presence_read(self.names.prefix(), &request.channel, request.mode);
        match timed(read).await {
            Ok(snapshot) => {
                let _ = request.reply.send(Some(snapshot));
                Ok(())
            }
            Err(why) => {
                let _ = request.reply.send(None);
                Err(why)
            }
        }
    }

    /// Leaving cleanly: this node's members leave now (their leaves published), not
    /// when its lease runs out.
    pub(super) async fn release_presence(
        &mut self,
        link: &mut T::Link,
    ) -> Result<(), TransportError> {
        timed(link.presence_claim(self.names.prefix(), Some(self.node.as_str()))).await
    }
}
