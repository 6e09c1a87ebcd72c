use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("chat")]
pub struct Chat;

#[channel_events]
impl Chat {
    async fn is_authorised(&self, packet: Packet<String>) -> bool {
        packet.data == "let me in"
    }
}

fn main() {}
