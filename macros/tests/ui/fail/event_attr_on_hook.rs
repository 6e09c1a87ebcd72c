use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("chat")]
pub struct Chat;

#[channel_events]
impl Chat {
    #[event("authorise")]
    async fn is_authorised(&self) -> bool {
        true
    }
}

fn main() {}
