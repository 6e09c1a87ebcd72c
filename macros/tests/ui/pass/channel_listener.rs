//! A channel listener with a `{id}` parameter, an `is_authorised` hook returning
//! `bool`, and events using every parameter kind.
#![deny(warnings)]

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard::prelude::*;

pub struct AppUser {
    pub id: String,
}

#[derive(Deserialize, Serialize)]
pub struct ChatMessage {
    pub text: String,
}

#[derive(ChannelListener, Default)]
#[channel("user:chat.{id}")]
pub struct UserChat;

#[channel_events]
impl UserChat {
    async fn is_authorised(&self, conn: &Connection, user: &AppUser) -> bool {
        conn.param("id") == Some(user.id.as_str())
    }

    /// Context by value, the user (required) and the payload.
    pub async fn message(
        &self,
        ctx: EventContext,
        user: &AppUser,
        packet: Packet<ChatMessage>,
    ) -> Result<(), SocketError> {
        if packet.data.text.is_empty() || user.id.is_empty() {
            return Err(SocketError::new("empty"));
        }
        ctx.broadcast_except_sender("message", &packet.data)?;
        Ok(())
    }

    /// Renamed, and the reply becomes the ack's data.
    #[event("deleted-message")]
    pub async fn deleted(&self, packet: Packet<Value>) -> Result<Value, SocketError> {
        Ok(packet.data)
    }

    /// The payload comes last here, the context by reference, the connection both
    /// ways, and an optional user.
    pub(crate) async fn typing(
        &self,
        user: Option<&AppUser>,
        ctx: &EventContext,
        conn: Connection,
        same: &Connection,
        packet: Packet<bool>,
    ) {
        let _ = (
            user.map(|u| &u.id),
            ctx.event(),
            conn.id() == same.id(),
            packet.data,
        );
    }

    /// Fully qualified framework types are recognised too.
    pub async fn qualified(
        &self,
        ctx: switchboard::EventContext,
        packet: switchboard::Packet<Vec<u32>>,
    ) -> Result<usize, switchboard::SocketError> {
        Ok(ctx.event().len() + packet.data.len() + self.helper())
    }

    /// A plain `fn` is left alone.
    fn helper(&self) -> usize {
        1
    }
}

fn main() {
    use switchboard::__private::{ChannelEvents, ChannelListener};
    assert_eq!(UserChat::PATTERN, "user:chat.{id}");
    assert_eq!(UserChat::NAME, "UserChat");
    assert_eq!(
        UserChat::EVENTS,
        ["message", "deleted-message", "typing", "qualified"]
    );
}
