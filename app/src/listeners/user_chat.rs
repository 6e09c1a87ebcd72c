use switchboard::prelude::*;

use super::{ChatMessage, Delivered, Posted};
use crate::user::User;

/// `user:chat.{id}`: a user's private channel. Only that user may join it, on any
/// number of devices; others reach it through the server (`send_to_user_via_channel`):
/// a note to self is `Posted`, a private message (`private-message`) `Delivered`.
#[derive(ChannelListener, Default, Debug)]
#[channel("user:chat.{id}", emits(message = Posted | Delivered))]
pub struct UserChat;

#[channel_events]
impl UserChat {
    /// Only the user whose id is the channel's `{id}`.
    async fn is_authorised(&self, conn: &Connection, user: &User) -> bool {
        conn.param("id") == Some(user.id.as_str())
    }

    /// Event `message`: a note to self, delivered to all of the user's devices.
    pub async fn message(
        &self,
        ctx: EventContext,
        user: &User,
        packet: Packet<ChatMessage>,
    ) -> Result<(), SocketError> {
        let posted = Posted {
            message: &packet.data.message,
            from: &user.name,
        };
        ctx.broadcast("message", &posted)?;
        Ok(())
    }
}
