//! Switchboard: real-time WebSocket channels on actix.
//!
//! An application declares **channel listeners** (a pattern such as `user:chat.{id}`,
//! an authorisation hook, event methods) and **socket listeners** (one event, one
//! handler); see [`listener`]. Every connection is served by a session actor that
//! speaks protocol v1 ([`protocol`]), keeps a heartbeat and writes through a bounded
//! outbound queue. Any code can send to one connection, one user or a channel through
//! the [`SocketServer`] handle.
//!
//! ```no_run
//! use switchboard::{Switchboard, config::Settings};
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let settings = Settings::load("config/Websockets.toml")?;
//!     Switchboard::new(settings)?.run().await?;
//!     Ok(())
//! }
//! ```

// Lets the macros' `::switchboard::…` paths resolve inside this crate's own tests.
extern crate self as switchboard;

pub mod auth;
mod backplane;
mod channel;
pub mod config;
mod ids;
mod index;
pub mod listener;
mod metrics;
pub mod protocol;
mod registry;
mod server;
mod session;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use auth::{SocketUser, sockets};
pub use backplane::BackplaneStats;
pub use ids::{ConnectionId, NodeId};
pub use index::Stats;
pub use listener::{Connection, EventContext, Packet, Params, SocketError};
pub use registry::{ChannelRegistration, RegistryError, SocketRegistration};
pub use server::{Running, SendError, SocketServer, StartError, Switchboard, SwitchboardBuilder};

#[cfg(feature = "macros")]
pub use switchboard_macros::{ChannelListener, SocketListener, channel_events, socket_handler};

/// The names a listener module needs: `use switchboard::prelude::*;`.
pub mod prelude {
    pub use crate::listener::{Connection, EventContext, Packet, Params, SocketError};
    #[cfg(feature = "macros")]
    pub use switchboard_macros::{ChannelListener, SocketListener, channel_events, socket_handler};
}
