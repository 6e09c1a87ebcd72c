use switchboard::prelude::*;

use super::{ChatMessage, Posted};
use crate::user::User;

/// `room.{id}`: a chat room keyed by its id, like a page many users watch.
#[derive(ChannelListener, Default, Debug)]
#[channel("room.{id}")]
pub struct Room;

#[channel_events]
impl Room {
    /// Event `message`: everyone else in the room receives it; the sender already
    /// shows its own message.
    pub async fn message(
        &self,
        ctx: EventContext,
        user: Option<&User>,
        packet: Packet<ChatMessage>,
    ) -> Result<(), SocketError> {
        let posted = Posted::new(&packet.data, user);
        ctx.broadcast_except_sender("message", &posted)?;
        Ok(())
    }
}
