use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("chat")]
pub struct Chat<T> {
    state: T,
}

fn main() {}
