//! What applications write: channel listeners and socket listeners.
//!
//! A **channel listener** owns a channel pattern such as `user:chat.{id}`. One instance
//! runs per active concrete channel (`user:chat.42`) as an actix actor, so its events are
//! handled in order and it may keep per-channel state in its fields.
//!
//! ```
//! use serde::Deserialize;
//! use switchboard::prelude::*;
//!
//! #[derive(ChannelListener, Default)]
//! #[channel("room.{id}")]
//! pub struct Room;
//!
//! #[derive(Deserialize, serde::Serialize)]
//! pub struct Say { text: String }
//!
//! #[channel_events]
//! impl Room {
//!     /// Anyone may join (this is also the default when the hook is absent).
//!     async fn is_authorised(&self, _conn: &Connection) -> bool {
//!         true
//!     }
//!
//!     /// Event `say`: everyone else in the room receives it.
//!     pub async fn say(&self, ctx: EventContext, packet: Packet<Say>) -> Result<(), SocketError> {
//!         ctx.broadcast_except_sender("say", &packet.data)?;
//!         Ok(())
//!     }
//! }
//! ```
//!
//! A **socket listener** handles one event sent without a channel:
//!
//! ```
//! use serde_json::Value;
//! use switchboard::prelude::*;
//!
//! #[derive(SocketListener, Default)]
//! #[event("echo")]
//! pub struct Echo;
//!
//! #[socket_handler]
//! impl Echo {
//!     async fn handle(&self, ctx: EventContext, packet: Packet<Value>) -> Result<(), SocketError> {
//!         ctx.reply("pong-back", &packet.data)?;
//!         Ok(())
//!     }
//! }
//! ```

mod context;
mod error;
pub(crate) mod handshake;
mod invocation;
mod lifecycle;
pub(crate) mod middleware;
mod packet;
mod reply;
mod state;
mod traits;
mod typed_send;

pub use context::{Connection, EventContext, Params};
pub use error::{HandlerError, SocketError};
pub(crate) use handshake::{Handshake, Rejection};
pub use invocation::Invocation;
pub(crate) use lifecycle::ConnectionHooks;
pub use lifecycle::{Disconnection, LeaveReason};
pub(crate) use middleware::Middleware;
pub use packet::Packet;
pub(crate) use state::States;
pub use state::{FromInvocation, State};
pub use traits::{
    AuthFuture, ChannelEvents, ChannelListener, EventFuture, IntoAuthorisation, IntoEventResult,
    SocketHandler, SocketListener, UserType,
};

pub(crate) use context::{ChannelRef, SessionUser};
pub(crate) use reply::Reply;
