//! Streams across nodes: the broker positions and keeps every publication (see
//! [`Link::publish_streams`]); each node delivers them to its own subscribers in the
//! broker's order, remembers the last one it delivered per stream, and repairs a gap
//! (a reconnect, a lost message) from the broker's history before anything newer. Only
//! when the history cannot fill it are the stream's local subscribers told `resync`.
//!
//! A stream is known by the topic it is published on: a channel's, or (for a user's
//! stream, `[history.users]`) the user's.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::oneshot;
use tracing::warn;

use super::{Bridge, Outgoing, timed};
use crate::delivery::Target;
use crate::protocol::{self, events};
use crate::stream::{HistorySpec, Position, Recovery, Since, new_epoch, positioned, recover};
use crate::transport::{
    Arrival, Envelope, Link, StreamLog, StreamPublish, Topic, Transport, TransportError,
};

/// A session's question: where the stream on `topic` stands and what followed `since`.
pub(in crate::transport) struct ReadRequest {
    pub(super) topic: Topic,
    pub(super) spec: HistorySpec,
    pub(super) since: Option<Since>,
    /// `None` when the broker could not be asked.
    pub(super) reply: oneshot::Sender<Option<Recovery>>,
}

impl<T: Transport> Bridge<T> {
    /// What the broker's script is handed for one publication; `None` for anything but
    /// a stream publication.
    pub(super) fn stream_publish(
        &self,
        outgoing: &Outgoing,
        rest: Vec<u8>,
    ) -> Option<StreamPublish> {
        let super::Message::Stream(_, spec) = &outgoing.message else {
            return None;
        };
        Some(StreamPublish {
            topic: self.names.of(&outgoing.topic),
            keys: self.names.stream(&outgoing.topic),
            rest,
            spec: *spec,
            new_epoch: new_epoch(),
        })
    }

    /// The arrival as a positioned stream publication, if it is one.
    pub(super) fn stream_publication(&self, arrival: &Arrival) -> Option<Envelope> {
        if !arrival.payload.starts_with(b"sb1 at=") {
            return None;
        }
        let topic = self.names.parse(&arrival.topic)?;
        Envelope::decode(topic, &arrival.payload).filter(|e| e.at.is_some())
    }

    /// The stream a positioned publication belongs to: the topic of its target.
    fn stream_of(target: &Target) -> Option<Topic> {
        match target {
            Target::Channel { .. } | Target::User { via: None, .. } => Some(Topic::of(target)),
            Target::User { via: Some(_), .. } | Target::Connection(_) | Target::Everyone => None,
        }
    }

    /// Delivers a stream publication here, after whatever this node missed before it
    /// (read from the broker's history), or after a `resync` when that is gone.
    pub(super) async fn deliver_stream(
        &mut self,
        link: &mut T::Link,
        envelope: Envelope,
    ) -> Result<(), TransportError> {
        let (Some(stream), Some((offset, epoch))) =
            (Self::stream_of(&envelope.target), envelope.at.clone())
        else {
            return Ok(());
        };
        super::add(&self.counters.received, 1);
        if !self.wanted(&stream) {
            return Ok(()); // nobody here any more
        }
        match self.positions.get(&stream) {
            Some(last) if last.epoch == epoch && offset <= last.offset => return Ok(()),
            Some(last) if last.epoch == epoch && offset > last.offset + 1 => {
                let since = Since {
                    offset: last.offset,
                    epoch: epoch.to_string(),
                };
                self.repair(link, stream, &since, offset - 1).await?;
            }
            Some(last) if last.epoch != epoch => {
                self.resync(stream, offset - 1, &epoch, "history_lost");
            }
            _ => {} // the next one, or the first since this node subscribed
        }
        self.deliver_positioned(&envelope, offset, &epoch);
        Ok(())
    }

    /// Delivers what followed `since` up to offset `until` from the broker's history,
    /// or sends `resync` when the history no longer holds all of it.
    async fn repair(
        &mut self,
        link: &mut T::Link,
        stream: Topic,
        since: &Since,
        until: u64,
    ) -> Result<(), TransportError> {
        let keys = self.names.stream(&stream);
        let log = timed(link.read_stream(&keys, &new_epoch(), READ_TTL, true)).await?;
        // Up to `until` in the epoch this node knows: beyond the stream's end, or in
        // another epoch, it cannot be complete.
        let wanted = Position {
            offset: until,
            epoch: log.epoch.clone(),
        };
        let kept = self
            .history(&stream, &log)
            .into_iter()
            .filter_map(|e| Some((e.at.as_ref()?.0, e)));
        match recover(since, &wanted, kept) {
            Some(missed) => {
                for envelope in &missed {
                    if let Some((offset, epoch)) = &envelope.at {
                        self.deliver_positioned(envelope, *offset, epoch);
                    }
                }
            }
            None => {
                warn!(stream = ?stream, since = since.offset, "stream gap not in history: resync");
                self.resync(stream, log.offset, &log.epoch, "gap");
            }
        }
        Ok(())
    }

    /// After a reconnect: every stream with local subscribers catches up on what was
    /// published while the link was down.
    pub(super) async fn catch_up(&mut self, link: &mut T::Link) -> Result<(), TransportError> {
        let known: Vec<(Topic, Position)> = self
            .positions
            .iter()
            .map(|(stream, last)| (stream.clone(), last.clone()))
            .collect();
        for (stream, last) in known {
            if !self.wanted(&stream) {
                self.positions.remove(&stream);
                continue;
            }
            let keys = self.names.stream(&stream);
            let log = timed(link.read_stream(&keys, &new_epoch(), READ_TTL, false)).await?;
            if log.epoch != last.epoch {
                self.resync(stream, log.offset, &log.epoch, "history_lost");
            } else if log.offset > last.offset {
                let since = Since {
                    offset: last.offset,
                    epoch: last.epoch.to_string(),
                };
                self.repair(link, stream, &since, log.offset).await?;
            }
        }
        Ok(())
    }

    /// Answers a session's read: the position now and, for a `since`, what followed.
    pub(super) async fn answer_read(
        &mut self,
        link: &mut T::Link,
        request: ReadRequest,
    ) -> Result<(), TransportError> {
        let keys = self.names.stream(&request.topic);
        let read = timed(link.read_stream(
            &keys,
            &new_epoch(),
            request.spec.ttl(),
            request.since.is_some(),
        ))
        .await;
        let log = match read {
            Ok(log) => log,
            Err(why) => {
                let _ = request.reply.send(None);
                return Err(why);
            }
        };
        let position = Position {
            offset: log.offset,
            epoch: log.epoch.clone(),
        };
        let missed = request.since.as_ref().map(|since| {
            let kept = self
                .history(&request.topic, &log)
                .into_iter()
                .filter_map(|e| {
                    let (offset, epoch) = e.at?;
                    Some((offset, positioned(&e.frame, offset, &epoch)))
                });
            recover(since, &position, kept)
        });
        // A node that has delivered nothing on this stream yet learns where it stands
        // from its first subscriber's read, so a loss of the very next publication shows
        // as a gap. Only when that reader is the stream's one recipient here: another
        // one may still be owed a publication in flight from before the read.
        if self.local_recipients(&request.topic) <= 1 {
            self.positions
                .entry(request.topic.clone())
                .or_insert_with(|| position.clone());
        }
        let _ = request.reply.send(Some(Recovery { position, missed }));
        Ok(())
    }

    /// How many connections here a stream on `topic` reaches.
    fn local_recipients(&self, topic: &Topic) -> usize {
        stream_target(topic).map_or(0, |target| self.delivery.index().recipients(&target))
    }

    /// The publications the broker keeps for the stream on `topic`, oldest first.
    fn history(&self, topic: &Topic, log: &StreamLog) -> Vec<Envelope> {
        log.entries
            .iter()
            .filter_map(|entry| Envelope::decode_entry(topic.clone(), entry, &log.epoch))
            .collect()
    }

    /// Delivers one positioned publication to this node's subscribers and remembers it.
    fn deliver_positioned(&mut self, envelope: &Envelope, offset: u64, epoch: &Arc<str>) {
        let Some(stream) = Self::stream_of(&envelope.target) else {
            return;
        };
        let frame = positioned(&envelope.frame, offset, epoch);
        let position = Position {
            offset,
            epoch: epoch.clone(),
        };
        self.delivery
            .deliver_at(&envelope.target, &frame, position.clone());
        self.positions.insert(stream, position);
    }

    /// Tells this node's recipients of the stream on `stream` (a channel's subscribers,
    /// or a user's connections) that they missed publications that cannot be
    /// recovered: they re-fetch (or subscribe, or connect, again with `since`).
    fn resync(&mut self, stream: Topic, offset: u64, epoch: &Arc<str>, reason: &str) {
        let data = json!({ "reason": reason, "offset": offset, "epoch": &**epoch });
        let Some(target) = stream_target(&stream) else {
            return;
        };
        let channel = match &stream {
            Topic::Channel(channel) => Some(&**channel),
            _ => None, // a user's stream: a direct packet
        };
        if let Ok(frame) = protocol::encode(events::RESYNC, channel, &data) {
            self.delivery.deliver(&target, &frame);
        }
        self.positions.insert(
            stream,
            Position {
                offset,
                epoch: epoch.clone(),
            },
        );
    }
}

/// Everyone a stream on `topic` is for: a channel's subscribers, or a user's
/// connections (only those two topics carry streams).
fn stream_target(topic: &Topic) -> Option<Target> {
    match topic {
        Topic::Channel(channel) => Some(Target::channel(channel)),
        Topic::User(user) => Some(Target::user(user)),
        Topic::Node(_) | Topic::All => None,
    }
}

/// How long a position a read creates lives without publications (a repair or catch-up
/// reads streams that already exist; this only bounds a stray one).
const READ_TTL: std::time::Duration = std::time::Duration::from_secs(600);
