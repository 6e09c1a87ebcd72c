use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("chat")]
pub struct Chat;

#[channel_events]
impl Chat {
    #[event("ping")]
    pub async fn heartbeat(&self) {}
}

fn main() {}
