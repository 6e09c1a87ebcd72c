use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("chat")]
pub struct Chat;

#[channel_events]
impl Chat {
    pub async fn message(&self, text: String) -> Result<(), SocketError> {
        let _ = text;
        Ok(())
    }
}

fn main() {}
