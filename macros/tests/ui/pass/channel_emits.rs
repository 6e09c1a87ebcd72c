//! `emits(...)` declares what the server sends on a channel, for the TypeScript
//! declarations; it changes nothing at run time, and builds without the `typescript`
//! feature (which the UI tests do not enable).

use serde::{Deserialize, Serialize};
use switchboard::prelude::*;

#[derive(Deserialize)]
pub struct Say {
    pub text: String,
}

#[derive(Serialize)]
pub struct Said<'a> {
    pub text: &'a str,
}

#[derive(Serialize)]
pub struct Joined {
    pub who: String,
}

#[derive(ChannelListener, Default)]
#[channel(
    "room.{id}",
    emits(said = Said | switchboard::SignalData, "user-joined" = Joined, r#type = ()),
    history(size = 10),
)]
pub struct Room;

#[channel_events]
impl Room {
    pub async fn say(&self, ctx: EventContext, packet: Packet<Say>) -> Result<(), SocketError> {
        ctx.broadcast("said", &Said { text: &packet.data.text })?;
        Ok(())
    }
}

/// Declares that it sends nothing.
#[derive(ChannelListener, Default)]
#[channel("quiet", emits())]
pub struct Quiet;

#[channel_events]
impl Quiet {}

switchboard::direct_events! {
    "notification" => Joined,
    "pong-back" => serde_json::Value | String,
}

fn main() {
    use switchboard::__private::ChannelListener as _;
    assert_eq!(Room::PATTERN, "room.{id}");
    assert_eq!(Quiet::PATTERN, "quiet");
}
