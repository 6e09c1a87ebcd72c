//! An empty `#[channel_events]` block: no events, everyone may subscribe.
#![deny(warnings)]

use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("global-chat")]
pub struct Global;

#[channel_events]
impl Global {}

fn main() {
    use switchboard::__private::ChannelEvents;
    assert!(Global::EVENTS.is_empty());
}
