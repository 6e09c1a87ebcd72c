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

/// The crate's README (what crates.io shows): its snippet is compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct Readme;

// Layers, top to bottom: each module uses only those below it.
pub mod auth; //      middleware chain, JWT, users
mod channel; //       channel listener actors
pub mod config;
mod delivery; //      this node: targets, queues, writers, per-worker fan-out
mod ids;
pub mod listener; //  what applications write
mod node; //          what every session of one node shares
mod presence; //      who is on a channel, across nodes
pub mod protocol;
mod registry; //      the routing table of listeners
mod send; //          SocketServer: send from anywhere
mod server; //        Switchboard, endpoint, HTTP API, drain
mod session; //       the per-connection actor
#[cfg(feature = "postgres")]
mod source; //        signals from outside the application: PostgreSQL
mod stats;
mod stream; //        channels with positions and history
#[cfg(feature = "testing")]
pub mod testing; //   for applications' tests: a loopback server and a client
mod transport; //     other nodes: the backplane and its transports
#[cfg(feature = "typescript")]
pub mod typescript; // the listeners' channels, events and payloads as a .d.ts
mod typescript_hooks; // what the macros call for it (nothing without the feature)

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use auth::SocketUser;
pub use ids::{ConnectionId, NodeId};
pub use listener::{
    Connection, EventContext, FromInvocation, HandlerError, Invocation, Packet, Params,
    SocketError, State,
};
pub use presence::PresenceMode;
pub use registry::{ChannelRegistration, RegistryError, SocketRegistration};
pub use send::{
    ControlError, Disconnect, Initiator, SendError, SignalData, SocketServer, Sockets, sockets,
};
pub use server::{Running, StartError, Switchboard, SwitchboardBuilder};
pub use stats::{BackplaneStats, Stats};
pub use stream::HistorySpec;

#[cfg(feature = "macros")]
pub use switchboard_macros::{ChannelListener, SocketListener, channel_events, socket_handler};

/// SQL helpers of the PostgreSQL source (cargo feature `postgres`): the trigger that
/// signals watched tables' changes, leaving the writer out, and signals that wait for
/// their transaction to commit. `tokio_postgres` is re-exported so the versions match.
#[cfg(feature = "postgres")]
pub mod postgres {
    pub use crate::source::postgres::{set_initiator, signal_after_commit, trigger_sql};
    pub use tokio_postgres;
}

/// Metrics for Prometheus (cargo feature `metrics`): the formats `PREFIX/metrics`
/// answers in; [`SocketServer::register_metrics`] adds them to an application's own
/// registry. `prometheus_client` is re-exported so the versions match.
#[cfg(feature = "metrics")]
pub mod metrics {
    pub use crate::send::MetricsFormat;
    pub use prometheus_client;
}

/// The names a listener module needs: `use switchboard::prelude::*;`.
pub mod prelude {
    pub use crate::listener::{
        Connection, EventContext, LeaveReason, Packet, Params, SocketError, State,
    };
    #[cfg(feature = "macros")]
    pub use switchboard_macros::{ChannelListener, SocketListener, channel_events, socket_handler};
}
