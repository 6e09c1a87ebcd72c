// Every mistake in the block is reported at once, each at its own token.
use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("chat")]
pub struct Chat;

#[channel_events]
impl Chat {
    async fn message(&self) {}

    pub async fn history(&self, limit: usize) {
        let _ = limit;
    }

    pub async fn ack(&mut self) {}
}

fn main() {}
