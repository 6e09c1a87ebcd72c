//! The derives really register: `inventory` holds each listener's record with its
//! pattern (or event) and its events in declaration order.
#![deny(warnings)]

use switchboard::__private::inventory;
use switchboard::prelude::*;
use switchboard::{ChannelRegistration, SocketRegistration};

#[derive(ChannelListener, Default)]
#[channel("room.{id}:*")]
pub struct Room;

#[channel_events]
impl Room {
    pub async fn join(&self) {}

    pub async fn say(&self, packet: Packet<String>) -> Result<String, SocketError> {
        Ok(packet.data)
    }

    #[event("left-room")]
    pub async fn leave(&self) {}
}

#[derive(ChannelListener, Default)]
#[channel("lobby")]
pub struct Lobby;

#[channel_events]
impl Lobby {}

#[derive(SocketListener, Default)]
#[event("echo")]
pub struct Echo;

#[socket_handler]
impl Echo {
    async fn handle(&self) {}
}

fn main() {
    let channels: Vec<&ChannelRegistration> =
        inventory::iter::<ChannelRegistration>.into_iter().collect();
    let room = channels.iter().find(|r| r.name() == "Room");
    let room = room.expect("Room is registered");
    assert_eq!(room.pattern(), "room.{id}:*");
    assert_eq!(room.events(), ["join", "say", "left-room"]);

    let lobby = channels.iter().find(|r| r.name() == "Lobby");
    let lobby = lobby.expect("Lobby is registered");
    assert_eq!(lobby.pattern(), "lobby");
    assert!(lobby.events().is_empty());
    assert_eq!(channels.len(), 2);

    let sockets: Vec<&SocketRegistration> =
        inventory::iter::<SocketRegistration>.into_iter().collect();
    assert_eq!(sockets.len(), 1);
    assert_eq!((sockets[0].name(), sockets[0].event()), ("Echo", "echo"));
}
