use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("chat")]
pub struct Chat;

#[channel_events]
impl Chat {
    pub async fn message(&self) {}

    #[event("message")]
    pub async fn other_message(&self) {}
}

fn main() {}
