use switchboard::prelude::*;

/// Members, with joins and leaves, and history beside it.
#[derive(ChannelListener, Default)]
#[channel("room.{id}", history(size = 10), presence)]
pub struct Room;

#[channel_events]
impl Room {}

/// Counts only.
#[derive(ChannelListener, Default)]
#[channel("stadium.{id}", presence(counts))]
pub struct Stadium;

#[channel_events]
impl Stadium {}

fn main() {
    use switchboard::__private::ChannelListener as _;
    assert_eq!(Room::PRESENCE, Some(switchboard::PresenceMode::Members));
    assert_eq!(Stadium::PRESENCE, Some(switchboard::PresenceMode::Counts));
}
