use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("chat")]
pub struct Chat;

#[channel_events]
impl Chat {
    #[event("sync")]
    pub fn sync(&self) {}
}

fn main() {}
