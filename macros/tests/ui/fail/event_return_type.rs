use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("chat")]
pub struct Chat;

#[channel_events]
impl Chat {
    pub async fn count(&self) -> u32 {
        1
    }
}

fn main() {}
