use switchboard::prelude::*;

pub struct NotSerde {
    pub text: String,
}

#[derive(ChannelListener, Default)]
#[channel("chat")]
pub struct Chat;

#[channel_events]
impl Chat {
    pub async fn message(&self, packet: Packet<NotSerde>) {
        let _ = packet.data.text;
    }
}

fn main() {}
