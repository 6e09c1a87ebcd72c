use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel(user:chat)]
pub struct UserChat;

#[channel_events]
impl UserChat {}

fn main() {}
