use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("room.{id}")]
pub struct Room;

#[channel_events]
impl Room {
    pub async fn onJoin(&self, conn: &Connection) {
        let _ = conn;
    }
}

fn main() {}
