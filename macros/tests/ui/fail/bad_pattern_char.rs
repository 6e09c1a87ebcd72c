use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("user chat.{id}")]
pub struct UserChat;

#[channel_events]
impl UserChat {}

fn main() {}
