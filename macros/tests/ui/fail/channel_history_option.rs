use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("room.{id}", history(size = 100, depth = 3))]
pub struct Room;

#[channel_events]
impl Room {}

fn main() {}
