use switchboard::prelude::*;

/// `room-members.{id}`: who is in room `{id}` (the page joins it beside `room.{id}`).
/// A presence channel: each signed-in user is listed once however many tabs they have
/// open, with their display name as `info` (the builder's `presence_info`), and every
/// member hears `presence-join` / `presence-leave` as people come and go. Nothing is
/// sent on it but presence.
#[derive(ChannelListener, Default, Debug)]
#[channel("room-members.{id}", presence)]
pub struct RoomMembers;

#[channel_events]
impl RoomMembers {}
