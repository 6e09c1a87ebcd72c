use switchboard::prelude::*;

pub struct Posted;

#[derive(ChannelListener, Default)]
#[channel("room.{id}", emits(message = Postd))]
pub struct Room;

#[channel_events]
impl Room {}

fn main() {}
