use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("room.{id}", presence(names))]
pub struct Room;

#[channel_events]
impl Room {}

fn main() {}
