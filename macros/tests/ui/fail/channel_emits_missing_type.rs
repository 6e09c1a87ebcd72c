use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("room.{id}", emits(message))]
pub struct Room;

#[channel_events]
impl Room {}

fn main() {}
