use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("user:*{id}")]
pub struct UserChat;

#[channel_events]
impl UserChat {}

fn main() {}
