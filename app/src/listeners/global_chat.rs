use switchboard::prelude::*;

use super::{ChatMessage, Posted};
use crate::user::User;

/// `global-chat`: everyone may join; a message reaches every subscriber.
#[derive(ChannelListener, Default, Debug)]
#[channel("global-chat", emits(message = Posted))]
pub struct GlobalChat;

#[channel_events]
impl GlobalChat {
    /// Event `message`: broadcast `{message, from}` to all subscribers, the sender too.
    pub async fn message(
        &self,
        ctx: EventContext,
        user: Option<&User>,
        packet: Packet<ChatMessage>,
    ) -> Result<(), SocketError> {
        let posted = Posted::new(&packet.data, user);
        ctx.broadcast("message", &posted)?;
        Ok(())
    }
}
