//! Presence from the session's side: counting this connection in and out of presence
//! channels (at the points `lifecycle.rs` announces joins and leaves), and answering
//! `presence-request`.

use std::sync::Arc;

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};

use super::Session;
use crate::listener::SocketError;
use crate::presence::PresenceMode;
use crate::protocol::{self, ErrorCode, InboundPacket, events};

impl Session {
    /// The connection joined presence channel `channel`. Anonymous connections are
    /// not members: presence is keyed by user.
    pub(super) fn count_in(&self, channel: &Arc<str>, mode: PresenceMode) {
        let Some(user) = &self.user else { return };
        let resolve = self.node.hooks.presence_info.clone();
        let model = user.model.clone();
        self.node.sends.presence_join(channel, mode, &user.id, || {
            resolve.and_then(|resolve| resolve(&*model))
        });
    }

    /// The connection left presence channel `channel` (it had joined it).
    pub(super) fn count_out(&self, channel: &str, mode: PresenceMode) {
        if let Some(user) = &self.user {
            self.node.sends.presence_leave(channel, mode, &user.id);
        }
    }

    /// `presence-request` on a channel: its members (or counts), every node together.
    /// The client's next packets are not held: the answer may follow them.
    pub(super) fn presence_request(&mut self, packet: InboundPacket, ctx: &mut Context<Self>) {
        let reply = self.reply(&packet);
        let Some(name) = packet.channel.as_deref() else {
            let refusal = SocketError::with_code(
                ErrorCode::BadPacket,
                "`presence-request` names its channel in the packet's `channel`",
            );
            return reply.send(Err(refusal));
        };
        let Some(subscription) = self.subscriptions.get(name) else {
            let refusal = SocketError::with_code(
                ErrorCode::NotSubscribed,
                format!("subscribe to `{name}` before asking who is on it"),
            );
            return reply.send(Err(refusal));
        };
        let Some(mode) = subscription.registration.presence else {
            let refusal = SocketError::with_code(
                ErrorCode::UnknownEvent,
                format!(
                    "`{}` keeps no presence: declare it with `#[channel(\"{}\", presence)]`",
                    subscription.registration.name(),
                    subscription.registration.pattern()
                ),
            );
            return reply.send(Err(refusal));
        };
        let channel = subscription.channel.name.clone();
        let read = self.node.sends.presence_of(channel.clone(), mode);
        ctx.spawn(read.into_actor(self).map(move |snapshot, session, _| {
            let Some(snapshot) = snapshot else {
                let refusal = SocketError::with_code(
                    ErrorCode::Internal,
                    "the other nodes cannot be reached to tell who is here; try again shortly",
                )
                .with_reason("backplane_unavailable");
                return reply.send(Err(refusal));
            };
            let data = snapshot.to_json();
            session.send(protocol::encode(
                events::PRESENCE_RESPONSE,
                Some(&channel),
                &data,
            ));
            reply.send(Ok(data));
        }));
    }
}
