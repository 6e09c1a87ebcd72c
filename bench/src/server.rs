//! The framework side: Switchboard with JWT and the bench listeners.
//!
//! - `bench.{id}`: event `publish` broadcasts `message` with the same data to every
//!   subscriber (S1..S3).
//! - `user:chat.{id}`: a user's private channel; only that user may join it (S4).
//! - `lobby.{id}`: a presence channel (members, joins and leaves) and `hall.{id}` one
//!   with counts only, for the presence benchmark (`bin/presence.rs`).
//! - socket event `route`: `{"to": CHANNEL, ...}` broadcasts `message` with the data
//!   on that one channel, the way an application sends to one user's channel (S4).

use serde_json::Value;
use switchboard::config::{BackplaneKind, Secret, Settings};
use switchboard::prelude::*;
use switchboard::{StartError, Switchboard};

/// Frames one connection may have waiting to be written before it is closed as a slow
/// consumer (4008). The load generator keeps at most 128 messages in flight to the
/// slowest subscriber (S2, S5; S4: 256 spread over 10,000 subscribers); 4096 leaves
/// ample headroom, so a close here means a real stall. The queue allocates as it
/// fills, so an idle connection does not pay for the depth.
pub const OUTBOUND_QUEUE: usize = 4096;

/// Worker threads: one per core of the benchmark machine.
pub const WORKERS: usize = 2;

/// The broadcast channel's pattern (`--history` names it in the settings).
pub const BENCH_PATTERN: &str = "bench.{id}";

/// `bench.{id}`: the broadcast channel.
#[derive(ChannelListener, Default, Debug)]
#[channel("bench.{id}")]
pub struct Bench;

#[channel_events]
impl Bench {
    /// Event `publish`: every subscriber, the sender included, receives `message`.
    pub async fn publish(
        &self,
        ctx: EventContext,
        packet: Packet<Value>,
    ) -> Result<(), SocketError> {
        ctx.broadcast("message", &packet.data)?;
        Ok(())
    }
}

/// `lobby.{id}`: presence with members (each join and leave goes to every subscriber).
#[derive(ChannelListener, Default, Debug)]
#[channel("lobby.{id}", presence)]
pub struct Lobby;

#[channel_events]
impl Lobby {}

/// `hall.{id}`: presence with counts only.
#[derive(ChannelListener, Default, Debug)]
#[channel("hall.{id}", presence(counts))]
pub struct Hall;

#[channel_events]
impl Hall {}

/// `user:chat.{id}`: one user's private channel.
#[derive(ChannelListener, Default, Debug)]
#[channel("user:chat.{id}")]
pub struct UserChat;

#[channel_events]
impl UserChat {
    /// Only the user whose id is the channel's `{id}`.
    async fn is_authorised(&self, conn: &Connection) -> bool {
        conn.param("id").is_some() && conn.param("id") == conn.user_id()
    }
}

/// `route`: sends `message` to the channel named by `data.to`; the ack says it was routed.
#[derive(SocketListener, Default, Debug)]
#[event("route")]
pub struct Route;

#[socket_handler]
impl Route {
    async fn handle(&self, ctx: EventContext, packet: Packet<Value>) -> Result<(), SocketError> {
        let Some(channel) = packet.data.get("to").and_then(Value::as_str) else {
            return Err(SocketError::new("`data.to` must name a channel"));
        };
        ctx.server().broadcast(channel, "message", &packet.data)?;
        Ok(())
    }
}

/// The bench server's settings: JWT (HS256) with `secret`, [`WORKERS`] workers and an
/// [`OUTBOUND_QUEUE`] deep enough for the fan-out. The abuse limits are opened up, as
/// a publisher's rate is what the benchmark measures; everything else is the default.
pub fn settings(secret: &str) -> Settings {
    let mut settings = Settings::default();
    settings.jwt.secret = Secret::new(secret);
    settings.server.workers = WORKERS;
    settings.limits.outbound_queue = OUTBOUND_QUEUE;
    settings.limits.messages_per_second = u32::MAX;
    settings.limits.burst = u32::MAX;
    settings.limits.max_connections = usize::MAX;
    settings.limits.max_connections_per_user = usize::MAX;
    settings
}

/// Switches `settings` to the Redis backplane at `url` (S5: two nodes on one Redis).
pub fn use_redis(settings: &mut Settings, url: &str) {
    settings.backplane.kind = BackplaneKind::Redis;
    settings.backplane.url = Secret::new(url);
}

/// Builds the server with the bench listeners (referencing this module links them in).
pub fn build(settings: Settings) -> Result<Switchboard, StartError> {
    Switchboard::builder(settings).build()
}
