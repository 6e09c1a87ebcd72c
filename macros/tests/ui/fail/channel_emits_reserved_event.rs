use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("room.{id}", emits(ready = String))]
pub struct Room;

#[channel_events]
impl Room {}

fn main() {}
