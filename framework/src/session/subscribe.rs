//! Joining and leaving channels.

use std::sync::Arc;

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tracing::debug;

use super::{Session, Subscription};
use crate::channel::{Authorise, authorisation_timeout};
use crate::listener::{ChannelRef, LeaveReason, SocketError};
use crate::protocol::{self, ErrorCode, Frame, InboundPacket, events};
use crate::registry::ChannelRegistration;
use crate::stream::{HistorySpec, Position, Recovery, Since};
use crate::transport::Topic;

impl Session {
    /// The channel a subscribe/unsubscribe request names: `data.channel`, or the
    /// top-level `channel` that Envuso's client also sets.
    fn requested_channel(packet: &InboundPacket) -> Option<Arc<str>> {
        packet
            .data
            .get("channel")
            .and_then(Value::as_str)
            .or(packet.channel.as_deref())
            .map(Arc::from)
    }

    /// Resolves the listener, runs its authorisation in the channel's actor, records
    /// the subscription and answers. The session handles no other packet meanwhile, so
    /// a client's next packet already sees the subscription.
    pub(super) fn subscribe(&mut self, packet: InboundPacket, ctx: &mut Context<Self>) {
        let Some(name) = Self::requested_channel(&packet) else {
            let refusal = SocketError::with_code(
                ErrorCode::BadPayload,
                "`data.channel` must be a channel name",
            );
            return self.reply(&packet).send(Err(refusal));
        };
        let since = match Since::from_request(&packet.data) {
            Ok(since) => since,
            Err(field) => {
                let refusal = SocketError::with_code(ErrorCode::BadPayload, field);
                return self.reply(&packet).send(Err(refusal));
            }
        };
        let asker = Asker::Client(packet.id);
        if self.subscriptions.contains_key(&name) {
            return self.answer_subscribe(&name, asker, Ok(())); // already joined
        }
        let (registration, params) = match self.joinable(&name) {
            Ok(found) => found,
            Err(refusal) => return self.answer_subscribe(&name, asker, Err(refusal)),
        };
        let channel = ChannelRef {
            name: name.clone(),
            params,
        };
        let (verdict_tx, verdict) = oneshot::channel();
        let actor = self.node.channels.actor(&name, registration);
        let asked = actor.try_send(Authorise {
            invocation: self.invocation(packet, Some(channel.clone())),
            reply: verdict_tx,
        });
        if let Err(refused) = asked {
            let node = &self.node;
            node.channels.retire_if_idle(&name, node.delivery().index());
            return self.answer_subscribe(&name, asker, Err(not_delivered(&refused)));
        }
        let limit = self.node.settings.limits.handler_timeout();
        let verdict = async move {
            match tokio::time::timeout(limit, verdict).await {
                Ok(Ok(verdict)) => verdict,
                Ok(Err(_)) => Err(channel_stopped()),
                Err(_) => Err(authorisation_timeout(limit)),
            }
        };
        self.join(
            Joining {
                registration,
                channel,
                actor,
                asker,
                since,
            },
            Box::pin(verdict),
            ctx,
        );
    }

    /// Subscribes this connection to `name` on the server's initiative (server-side
    /// control): no authorisation runs, and the client is told with `subscribed`.
    pub(super) fn subscribe_by_server(&mut self, name: Arc<str>, ctx: &mut Context<Self>) {
        if self.subscriptions.contains_key(&name) {
            return; // already there
        }
        let (registration, params) = match self.joinable(&name) {
            Ok(found) => found,
            Err(refusal) => {
                return debug!(connection = %self.id, channel = %name, error = %refusal,
                    "server-side subscribe not applied");
            }
        };
        let channel = ChannelRef {
            name: name.clone(),
            params,
        };
        let actor = self.node.channels.actor(&name, registration);
        let joining = Joining {
            registration,
            channel,
            actor,
            asker: Asker::Server,
            since: None,
        };
        self.join(joining, Box::pin(async { Ok(()) }), ctx);
    }

    /// Whether `name` can be joined at all: a valid name, a listener for it, room for
    /// one more subscription.
    fn joinable(
        &self,
        name: &str,
    ) -> Result<(&'static ChannelRegistration, crate::listener::Params), SocketError> {
        if let Err(e) = switchboard_pattern::validate_channel_name(name) {
            return Err(SocketError::with_code(
                ErrorCode::UnknownChannel,
                format!("invalid channel name: {e}"),
            ));
        }
        let Some(found) = self.node.registry.resolve(name) else {
            return Err(SocketError::with_code(
                ErrorCode::UnknownChannel,
                format!("no channel listener matches `{name}`"),
            ));
        };
        let limit = self.node.settings.limits.max_subscriptions;
        if self.subscriptions.len() >= limit {
            return Err(SocketError::with_code(
                ErrorCode::TooManySubscriptions,
                format!("a connection may join at most {limit} channels"),
            ));
        }
        Ok(found)
    }

    /// Waits for `verdict`, records the subscription and answers. The session handles
    /// no other packet meanwhile, so a client's next packet already sees the
    /// subscription.
    fn join(
        &mut self,
        joining: Joining,
        verdict: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), SocketError>>>>,
        ctx: &mut Context<Self>,
    ) {
        let Joining {
            registration,
            channel,
            actor,
            asker,
            since,
        } = joining;
        let name = channel.name.clone();
        // The session goes on (heartbeats, expiry, sends) while the client's next
        // packets wait, so they see the subscription.
        self.gate.hold();
        let stream = (self.node.sends.streams.specs)(&name);
        let joined = verdict.into_actor(self).then(move |verdict, session, _| {
            if verdict.is_ok() && stream.is_some() {
                // Live publications wait until the position and history are read.
                session.connection.hold(&name);
            }
            let joined = verdict.is_ok() && session.connection.subscribe(&name);
            let node = session.node.clone();
            let synced = if joined {
                let subscription = Subscription {
                    registration,
                    channel,
                    actor,
                    announced: false,
                };
                session.subscriptions.insert(name.clone(), subscription);
                node.backplane().sync(Topic::Channel(name.clone()))
            } else {
                node.channels.retire_if_idle(&name, node.delivery().index());
                Box::pin(async { true })
            };
            // Answered once the other nodes will deliver to it too; a subscription the
            // backplane cannot confirm is undone and refused, never reported as joined.
            tokio::time::timeout(super::SYNC_TIMEOUT, synced)
                .into_actor(session)
                .map(move |confirmed, session, ctx| {
                    let verdict = match (verdict, confirmed) {
                        (Ok(()), Ok(true)) => Ok(()),
                        (Err(refusal), _) => Err(refusal),
                        (Ok(()), _) => {
                            session.forget(&name);
                            Err(backplane_unavailable())
                        }
                    };
                    match (verdict, stream) {
                        // Answered with the stream's position; releases the gate itself.
                        (Ok(()), Some(spec)) => {
                            session.join_stream(name, asker, spec, since, ctx);
                        }
                        (verdict, _) => {
                            session.connection.forget(&name);
                            let joined = verdict.is_ok();
                            session.answer_subscribe(&name, asker, verdict);
                            if joined {
                                session.announce_join(&name);
                            }
                            session.gate.release();
                        }
                    }
                })
        });
        ctx.spawn(joined);
    }

    pub(super) fn unsubscribe(&mut self, packet: InboundPacket) {
        let Some(name) = Self::requested_channel(&packet) else {
            let refusal = SocketError::with_code(
                ErrorCode::BadPayload,
                "`data.channel` must be a channel name",
            );
            return self.reply(&packet).send(Err(refusal));
        };
        let existed = self.leave(&name, LeaveReason::Unsubscribed);
        let response = json!({ "channel": &*name, "successful": existed });
        self.send(protocol::encode(
            events::UNSUBSCRIBE_RESPONSE,
            None,
            &response,
        ));
        self.reply(&packet).send(Ok(response));
    }

    /// Forgets the subscription to `name`, here and (when it was the channel's last one
    /// on this node) on the backplane.
    pub(super) fn forget(&mut self, name: &str) -> Option<Subscription> {
        let subscription = self.subscriptions.remove(name)?;
        if self.connection.unsubscribe(name) {
            let node = &self.node;
            node.channels.retire_if_idle(name, node.delivery().index());
            drop(node.backplane().sync(Topic::Channel(name.into())));
        }
        Some(subscription)
    }

    /// Reads the stream's position (and, for a `since`, what followed it): from this
    /// node's history, or from the broker's through the backplane; then answers and
    /// lets the client's next packets through.
    fn join_stream(
        &mut self,
        name: Arc<str>,
        asker: Asker,
        spec: HistorySpec,
        since: Option<Since>,
        ctx: &mut Context<Self>,
    ) {
        let backplane = self.node.backplane();
        if !backplane.spans_nodes() {
            let recovery = self
                .node
                .sends
                .streams
                .history
                .read(&name, spec, since.as_ref());
            self.answer_stream(&name, asker, recovery);
            self.gate.release();
            return;
        }
        let read = backplane.read_stream(Topic::Channel(name.clone()), spec, since);
        ctx.spawn(read.into_actor(self).map(move |recovery, session, _| {
            match recovery {
                Some(recovery) => session.answer_stream(&name, asker, recovery),
                None => {
                    session.forget(&name);
                    session.answer_subscribe(&name, asker, Err(backplane_unavailable()));
                }
            }
            session.gate.release();
        }));
    }

    /// Answers a subscribe to a stream with its position (and whether what followed
    /// `since` was recovered), sends what was missed, then lets the live publications
    /// through: those the history already held are dropped.
    fn answer_stream(&mut self, name: &Arc<str>, asker: Asker, recovery: Recovery) {
        let mut response = json!({ "channel": &**name, "successful": true });
        let (position, missed) = describe_position(&mut response, recovery);
        match asker {
            Asker::Client(id) => {
                self.send(protocol::encode(
                    events::SUBSCRIBE_RESPONSE,
                    None,
                    &response,
                ));
                if let Some(id) = id {
                    self.push(protocol::ack_ok(id, &response));
                }
            }
            Asker::Server => {
                let data = json!({ "offset": response["offset"], "epoch": response["epoch"] });
                self.send(protocol::encode(events::SUBSCRIBED, Some(name), &data));
            }
        }
        for frame in missed {
            self.push(frame);
        }
        self.connection.release(name, position);
        self.announce_join(name);
    }

    /// `subscribe-channel-response`, plus the ack when the request had an `id`; for
    /// a subscribe by the server, `subscribed` (a refusal is only logged).
    fn answer_subscribe(&mut self, name: &str, asker: Asker, verdict: Result<(), SocketError>) {
        let id = match asker {
            Asker::Client(id) => id,
            Asker::Server => {
                match verdict {
                    Ok(()) => {
                        self.send(protocol::encode(events::SUBSCRIBED, Some(name), &json!({})))
                    }
                    Err(e) => debug!(connection = %self.id, channel = name, error = %e,
                        "server-side subscribe not applied"),
                }
                return;
            }
        };
        let response = match &verdict {
            Ok(()) => json!({ "channel": name, "successful": true }),
            Err(e) => json!({
                "channel": name,
                "successful": false,
                "reason": e.reason().unwrap_or(e.code().as_str()),
                "message": e.message(),
            }),
        };
        self.send(protocol::encode(
            events::SUBSCRIBE_RESPONSE,
            None,
            &response,
        ));
        // The response above already tells a refusal; the ack only closes the request.
        if let Some(id) = id {
            let ack = match verdict {
                Ok(()) => protocol::ack_ok(id, &response),
                Err(e) => protocol::ack_err(id, e.code(), e.message(), e.reason()),
            };
            self.push(ack);
        }
    }
}

/// Who asked for a subscription: the client (with its request's `id`), or the server
/// (server-side control).
#[derive(Debug, Clone, Copy)]
enum Asker {
    Client(Option<u64>),
    Server,
}

/// A subscription on its way: what it joins and who asked.
struct Joining {
    registration: &'static ChannelRegistration,
    channel: ChannelRef,
    actor: actix::Addr<crate::channel::ChannelActor>,
    asker: Asker,
    since: Option<Since>,
}

/// Writes a stream's position into an answer (`offset`, `epoch`) and, when the client
/// asked with `since`, whether it was `recovered` and how many it `missed`; returns the
/// position and the publications to send after the answer.
pub(super) fn describe_position(answer: &mut Value, recovery: Recovery) -> (Position, Vec<Frame>) {
    let Position { offset, epoch } = &recovery.position;
    answer["offset"] = json!(offset);
    answer["epoch"] = json!(&**epoch);
    let missed = match recovery.missed {
        None => Vec::new(),
        Some(None) => {
            answer["recovered"] = json!(false);
            Vec::new()
        }
        Some(Some(missed)) => {
            answer["recovered"] = json!(true);
            answer["missed"] = json!(missed.len());
            missed
        }
    };
    (recovery.position, missed)
}

/// Why a message to a channel's actor was not queued: its mailbox is full
/// (`overloaded`), or it has stopped.
pub(super) fn not_delivered<M>(refused: &actix::prelude::SendError<M>) -> SocketError {
    match refused {
        actix::prelude::SendError::Full(_) => SocketError::with_code(
            ErrorCode::Overloaded,
            "the channel has too many events waiting; try again shortly",
        ),
        actix::prelude::SendError::Closed(_) => channel_stopped(),
    }
}

/// The backplane could not confirm the subscription (or read the stream) in time.
fn backplane_unavailable() -> SocketError {
    SocketError::with_code(
        ErrorCode::Internal,
        "the other nodes cannot be reached to deliver this channel's messages; try again \
         shortly",
    )
    .with_reason("backplane_unavailable")
}

/// The channel's actor is gone (it stopped while asked).
pub(super) fn channel_stopped() -> SocketError {
    SocketError::with_code(ErrorCode::Internal, "the channel stopped")
}
