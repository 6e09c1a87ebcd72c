use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("chat")]
pub struct Chat;

#[channel_events]
impl Chat {
    fn is_authorised(&self, conn: &Connection) -> bool {
        conn.user_id().is_some()
    }
}

fn main() {}
