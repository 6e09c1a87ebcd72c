use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("chat")]
pub struct Chat;

#[channel_events]
impl Chat {
    pub async fn message(&self) {}

    async fn load_history(&self) {}
}

fn main() {}
