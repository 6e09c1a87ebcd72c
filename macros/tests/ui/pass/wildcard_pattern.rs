//! Unnamed wildcards, several per pattern, and a listener with per-channel state.
#![deny(warnings)]

use std::sync::atomic::{AtomicU64, Ordering};

use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("presence:*")]
pub struct Presence;

#[channel_events]
impl Presence {}

#[derive(ChannelListener, Default)]
#[channel("room.{room}:*.{thread}")]
pub struct Thread {
    count: AtomicU64,
}

#[channel_events]
impl Thread {
    pub async fn count(&self, conn: &Connection) -> Result<u64, SocketError> {
        let _ = conn.param("room");
        Ok(self.count.fetch_add(1, Ordering::Relaxed))
    }
}

fn main() {
    use switchboard::__private::ChannelListener;
    assert_eq!(Presence::PATTERN, "presence:*");
    assert_eq!(Thread::PATTERN, "room.{room}:*.{thread}");
}
