use switchboard::prelude::*;

use super::{ChatMessage, Posted};
use crate::rooms::RoomMessage;
use crate::user::User;

/// `room.{id}`: a chat room keyed by its id, like a page many users watch. `message`
/// is what a subscriber sent on the channel (`Posted`), a post to
/// `POST /rooms/{id}/messages` (`RoomMessage`, in memory), or the PostgreSQL source's
/// signal of one (`SignalData`, with a database).
#[derive(ChannelListener, Default, Debug)]
#[channel(
    "room.{id}",
    emits(message = Posted | RoomMessage | switchboard::SignalData)
)]
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
