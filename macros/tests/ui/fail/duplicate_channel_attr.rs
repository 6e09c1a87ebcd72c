use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("chat")]
#[channel("chat.{id}")]
pub struct Chat;

#[channel_events]
impl Chat {}

fn main() {}
