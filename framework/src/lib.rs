//! Switchboard: real-time WebSocket channels on actix.
//!
//! Every connection is served by a session actor that speaks protocol v1
//! ([`protocol`]), keeps a heartbeat and writes through a bounded outbound queue.
//! Any code can send to one connection, one user or a channel through the
//! [`SocketServer`] handle.
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

pub mod config;
mod ids;
mod index;
pub mod protocol;
mod server;
mod session;

pub use ids::{ConnectionId, NodeId};
pub use index::Stats;
pub use server::{Running, SendError, SocketServer, StartError, Switchboard};
