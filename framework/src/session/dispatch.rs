//! Routing one decoded packet: reserved events, channel events, socket events.

use std::sync::Arc;

use actix::{AsyncContext, Context};
use serde_json::Value;

use super::Session;
use crate::channel::Dispatch;
use crate::delivery::WireFrame;
use crate::listener::{ChannelRef, Connection, Invocation, Reply, SocketError};
use crate::protocol::{DecodeError, ErrorCode, InboundPacket, events};

impl Session {
    pub(super) fn on_text(&mut self, text: &str, ctx: &mut Context<Self>) {
        if self.node.echo {
            let _ = self.connection.push_wire(&WireFrame::text_str(text));
            return;
        }
        match InboundPacket::decode(text) {
            Ok(packet) => self.dispatch(packet, ctx),
            Err(e) => {
                let event = match &e {
                    DecodeError::Shape { event, .. } => event.as_deref().map(Arc::from),
                    _ => None,
                };
                let refusal = SocketError::with_code(e.code(), e.to_string());
                Reply::new(self.connection.outbox(), e.id(), event, None).send(Err(refusal));
            }
        }
    }

    pub(super) fn on_binary(&mut self, payload: &[u8]) {
        if self.node.echo {
            let _ = self.connection.push_wire(&WireFrame::binary(payload));
            return;
        }
        let refusal = SocketError::with_code(
            ErrorCode::BadPacket,
            "binary frames are not supported: send JSON text frames",
        );
        Reply::new(self.connection.outbox(), None, None, None).send(Err(refusal));
    }

    fn dispatch(&mut self, packet: InboundPacket, ctx: &mut Context<Self>) {
        match packet.event.as_str() {
            events::PONG => self.reply(&packet).send(Ok(Value::Null)),
            events::SUBSCRIBE_REQUEST => self.subscribe(packet, ctx),
            events::UNSUBSCRIBE_REQUEST => self.unsubscribe(packet),
            events::REFRESH_REQUEST => self.refresh(packet, ctx),
            events::PRESENCE_REQUEST => self.presence_request(packet, ctx),
            event if events::SERVER_ONLY.contains(&event) => {
                let refusal = SocketError::with_code(
                    ErrorCode::BadPacket,
                    format!("`{event}` is sent by the server, not by clients"),
                );
                self.reply(&packet).send(Err(refusal));
            }
            _ if packet.channel.is_some() => self.channel_event(packet),
            _ => self.socket_event(packet, ctx),
        }
    }

    /// Where the outcome of `packet` goes.
    pub(super) fn reply(&self, packet: &InboundPacket) -> Reply {
        Reply::new(
            self.connection.outbox(),
            packet.id,
            Some(packet.event.as_str().into()),
            packet.channel.as_deref().map(Arc::from),
        )
    }

    /// What a hook or event method receives for `packet`.
    pub(super) fn invocation(
        &self,
        packet: InboundPacket,
        channel: Option<ChannelRef>,
    ) -> Invocation {
        Invocation {
            connection: Connection {
                id: self.id.clone(),
                user: self.user.clone(),
                channel,
            },
            event: packet.event.into(),
            data: packet.data,
            id: packet.id,
            server: self.node.server(),
            outbox: self.connection.outbox(),
            states: self.node.states.clone(),
            leave: None,
        }
    }

    fn channel_event(&mut self, packet: InboundPacket) {
        let Some(name) = packet.channel.as_deref() else {
            return;
        };
        let Some(subscription) = self.subscriptions.get(name) else {
            let refusal = SocketError::with_code(
                ErrorCode::NotSubscribed,
                format!("subscribe to `{name}` before sending events on it"),
            );
            return self.reply(&packet).send(Err(refusal));
        };
        let registration = subscription.registration;
        if !registration.events().contains(&packet.event.as_str()) {
            let refusal = SocketError::with_code(
                ErrorCode::UnknownEvent,
                format!("`{}` has no event `{}`", registration.name(), packet.event),
            );
            return self.reply(&packet).send(Err(refusal));
        }
        let channel = subscription.channel.clone();
        // Through the channel's actor: one channel's events run one at a time, in order;
        // a channel with `limits.channel_queue` events waiting refuses more (and hands
        // the event back, so the refusal is answered from it).
        let sent = subscription.actor.try_send(Dispatch {
            invocation: self.invocation(packet, Some(channel)),
        });
        if let Err(refused) = sent {
            let refusal = super::subscribe::not_delivered(&refused);
            let (actix::prelude::SendError::Full(Dispatch { invocation })
            | actix::prelude::SendError::Closed(Dispatch { invocation })) = refused;
            Reply::to(&invocation).send(Err(refusal));
        }
    }

    /// A socket listener runs inside this session and holds its next packets until it
    /// finishes, so one connection's direct events are handled in order.
    fn socket_event(&mut self, packet: InboundPacket, ctx: &mut Context<Self>) {
        let Some(route) = self.node.registry.socket(&packet.event) else {
            let refusal = SocketError::with_code(
                ErrorCode::UnknownEvent,
                format!("no socket listener handles `{}`", packet.event),
            );
            return self.reply(&packet).send(Err(refusal));
        };
        let reply = self.reply(&packet);
        let handler =
            (route.registration.handle)(route.listener.clone(), self.invocation(packet, None));
        // The session waits for it (one connection's direct events stay in order), so a
        // handler that never finishes is cut off rather than holding the heartbeat,
        // the token's expiry and the clean-up with it.
        let limit = self.node.settings.limits.handler_timeout();
        ctx.wait(actix::fut::wrap_future(reply.after(limit, handler)));
    }
}
