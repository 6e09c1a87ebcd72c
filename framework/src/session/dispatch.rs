//! What a session does with one decoded packet.

use serde_json::{Value, json};

use super::Session;
use crate::protocol::{self, ErrorCode, InboundPacket, ack_err, ack_ok, error_packet, events};

/// A packet refused: the client gets an `error` packet and, if it sent an `id`, a failed ack.
pub(super) struct Refusal<'p> {
    pub code: ErrorCode,
    pub message: String,
    pub event: Option<&'p str>,
    pub channel: Option<&'p str>,
}

impl Session {
    pub(super) fn on_text(&mut self, text: &str) {
        let packet = match InboundPacket::decode(text) {
            Ok(packet) => packet,
            Err(e) => {
                let event = match &e {
                    protocol::DecodeError::Shape { event, .. } => event.as_deref(),
                    _ => None,
                };
                let refusal = Refusal {
                    code: e.code(),
                    message: e.to_string(),
                    event,
                    channel: None,
                };
                self.refuse(e.id(), refusal);
                return;
            }
        };
        self.dispatch(&packet);
    }

    pub(super) fn on_binary(&mut self) {
        self.refuse(
            None,
            Refusal {
                code: ErrorCode::BadPacket,
                message: "binary frames are not supported: send JSON text frames".into(),
                event: None,
                channel: None,
            },
        );
    }

    fn dispatch(&mut self, packet: &InboundPacket) {
        match packet.event.as_str() {
            events::PONG => self.answer(packet.id, Ok(Value::Null)),
            events::SUBSCRIBE_REQUEST => self.subscribe(packet),
            events::UNSUBSCRIBE_REQUEST => self.unsubscribe(packet),
            event if events::SERVER_ONLY.contains(&event) => self.refuse(
                packet.id,
                Refusal {
                    code: ErrorCode::BadPacket,
                    message: format!("`{event}` is sent by the server, not by clients"),
                    event: Some(event),
                    channel: packet.channel.as_deref(),
                },
            ),
            _ => match packet.channel.as_deref() {
                Some(channel) => self.channel_event(packet, channel),
                None => self.direct_event(packet),
            },
        }
    }

    /// The channel a subscribe/unsubscribe request names: `data.channel`, or the
    /// top-level `channel` that Envuso's client also sets.
    fn requested_channel<'p>(&self, packet: &'p InboundPacket) -> Option<&'p str> {
        packet
            .data
            .get("channel")
            .and_then(Value::as_str)
            .or(packet.channel.as_deref())
    }

    fn subscribe(&mut self, packet: &InboundPacket) {
        let Some(channel) = self.requested_channel(packet) else {
            return self.refuse(packet.id, missing_channel(packet));
        };
        // No channel listener is registered yet, so no name can be joined.
        let response = json!({
            "channel": channel,
            "successful": false,
            "reason": ErrorCode::UnknownChannel,
            "message": format!("no channel listener matches `{channel}`"),
        });
        self.send(protocol::encode(
            events::SUBSCRIBE_RESPONSE,
            None,
            &response,
        ));
        self.answer(
            packet.id,
            Err((
                ErrorCode::UnknownChannel,
                format!("no channel listener matches `{channel}`"),
            )),
        );
    }

    fn unsubscribe(&mut self, packet: &InboundPacket) {
        let Some(channel) = self.requested_channel(packet) else {
            return self.refuse(packet.id, missing_channel(packet));
        };
        let (existed, _) = self.core.index.unsubscribe(&self.id, channel);
        let response = json!({ "channel": channel, "successful": existed });
        self.send(protocol::encode(
            events::UNSUBSCRIBE_RESPONSE,
            None,
            &response,
        ));
        self.answer(packet.id, Ok(response));
    }

    fn channel_event(&mut self, packet: &InboundPacket, channel: &str) {
        if !self.core.index.is_subscribed(&self.id, channel) {
            return self.refuse(
                packet.id,
                Refusal {
                    code: ErrorCode::NotSubscribed,
                    message: format!("subscribe to `{channel}` before sending events on it"),
                    event: Some(&packet.event),
                    channel: Some(channel),
                },
            );
        }
        self.refuse(
            packet.id,
            Refusal {
                code: ErrorCode::UnknownEvent,
                message: format!("no listener handles `{}` on `{channel}`", packet.event),
                event: Some(&packet.event),
                channel: Some(channel),
            },
        );
    }

    fn direct_event(&mut self, packet: &InboundPacket) {
        self.refuse(
            packet.id,
            Refusal {
                code: ErrorCode::UnknownEvent,
                message: format!("no socket listener handles `{}`", packet.event),
                event: Some(&packet.event),
                channel: None,
            },
        );
    }

    pub(super) fn refuse(&mut self, id: Option<u64>, refusal: Refusal<'_>) {
        self.push(error_packet(
            refusal.code,
            &refusal.message,
            refusal.event,
            refusal.channel,
        ));
        if let Some(id) = id {
            self.push(ack_err(id, refusal.code, &refusal.message));
        }
    }

    /// Acks a packet that carried an `id`; does nothing otherwise.
    pub(super) fn answer(&mut self, id: Option<u64>, result: Result<Value, (ErrorCode, String)>) {
        let Some(id) = id else { return };
        match result {
            Ok(data) => self.push(ack_ok(id, &data)),
            Err((code, message)) => self.push(ack_err(id, code, &message)),
        }
    }
}

fn missing_channel(packet: &InboundPacket) -> Refusal<'_> {
    Refusal {
        code: ErrorCode::BadPayload,
        message: "`data.channel` must be a channel name".into(),
        event: Some(&packet.event),
        channel: None,
    }
}
