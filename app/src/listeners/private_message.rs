use serde::{Deserialize, Serialize};
use switchboard::prelude::*;
use switchboard::typescript::TS;

use crate::api::user_for;
use crate::user::User;

/// What a client sends: `{"event": "private-message", "data": {"to": "bob", "message": "hi"}}`.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(crate = "switchboard::typescript::ts_rs")]
pub struct PrivateMessage {
    /// The recipient's user id.
    pub to: String,
    /// The text.
    pub message: String,
}

/// What both ends receive, as event `message` on their `user:chat.{id}` channel.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(crate = "switchboard::typescript::ts_rs")]
pub struct Delivered<'a> {
    /// The text.
    pub message: &'a str,
    /// The sender's name.
    pub from: &'a str,
    /// The sender's user id.
    pub from_id: &'a str,
    /// The recipient's user id.
    pub to: &'a str,
}

/// The ack: how many of the recipient's connections were reached.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(crate = "switchboard::typescript::ts_rs")]
pub struct Receipt {
    /// Connections of the recipient subscribed to their private channel.
    pub delivered: usize,
}

/// Longest private message, in characters.
const MAX_CHARS: usize = 2000;

/// A socket listener: `private-message` sends `message` on the recipient's
/// `user:chat.{to}`, and on the sender's own channel so their other devices see it.
#[derive(SocketListener, Default, Debug)]
#[event("private-message")]
pub struct PrivateMessages;

#[socket_handler]
impl PrivateMessages {
    async fn handle(
        &self,
        ctx: EventContext,
        user: &User,
        packet: Packet<PrivateMessage>,
    ) -> Result<Receipt, SocketError> {
        let Some(to) = user_for(&packet.data.to) else {
            return Err(SocketError::with_code(
                switchboard::protocol::ErrorCode::BadPayload,
                "`to` must be a user id",
            ));
        };
        let message = packet.data.message.trim();
        if message.is_empty() || message.chars().count() > MAX_CHARS {
            return Err(SocketError::with_code(
                switchboard::protocol::ErrorCode::BadPayload,
                format!("`message` must be 1 to {MAX_CHARS} characters"),
            ));
        }
        let delivered = Delivered {
            message,
            from: &user.name,
            from_id: &user.id,
            to: &to.id,
        };
        let reached =
            ctx.server()
                .broadcast(&format!("user:chat.{}", to.id), "message", &delivered)?;
        if to.id != user.id {
            ctx.server()
                .broadcast(&format!("user:chat.{}", user.id), "message", &delivered)?;
        }
        Ok(Receipt { delivered: reached })
    }
}
