use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("chat")]
pub struct Chat;

#[channel_events]
impl Clone for Chat {
    fn clone(&self) -> Self {
        Chat
    }
}

fn main() {}
