use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
pub struct UserChat;

#[channel_events]
impl UserChat {}

fn main() {}
