use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("user:chat.{id}")]
pub struct UserChat;

fn main() {}
