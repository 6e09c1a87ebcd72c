use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("room.{id}")]
pub struct Room;

#[channel_events]
impl Room {
    async fn on_leave(&self, packet: Packet<serde_json::Value>, reason: LeaveReason) {
        let _ = (packet, reason);
    }
}

fn main() {}
