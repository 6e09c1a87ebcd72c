//! TypeScript declarations of an application's channels (cargo feature `typescript`):
//! every channel pattern, the events on it and their payload types, as one `.d.ts`
//! module for the typed browser client (`switchboard-client`, whose `SocketClient<App>`
//! takes the module's `App`).
//!
//! The macros know most of it already: a listener's pattern, its events and the
//! payload type of each (`Packet<T>`) and its ack (`Result<T, _>`). What the server
//! sends is declared beside the pattern, and direct events (sent without a channel)
//! with [`direct_events!`](crate::direct_events):
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use switchboard::prelude::*;
//! use switchboard::typescript::TS;
//!
//! #[derive(Deserialize, TS)]
//! #[ts(crate = "switchboard::typescript::ts_rs")]
//! pub struct Say {
//!     pub text: String,
//! }
//!
//! #[derive(Serialize, TS)]
//! #[ts(crate = "switchboard::typescript::ts_rs")]
//! pub struct Said {
//!     pub text: String,
//!     pub from: String,
//! }
//!
//! // (Doctests share one binary, and so one registry: each names its own channels.)
//! #[derive(ChannelListener, Default)]
//! #[channel("lobby.{room}", emits(said = Said))]
//! pub struct Lobby;
//!
//! #[channel_events]
//! impl Lobby {
//!     pub async fn say(&self, ctx: EventContext, packet: Packet<Say>) -> Result<(), SocketError> {
//!         let said = Said { text: packet.data.text, from: ctx.connection().id().to_string() };
//!         ctx.broadcast("said", &said)?;
//!         Ok(())
//!     }
//! }
//!
//! # fn main() -> Result<(), switchboard::typescript::DeclarationError> {
//! let module = switchboard::typescript::declarations()?; // write it to `app.d.ts`
//! assert!(module.contains("export type Said = { text: string, from: string, };"));
//! assert!(module.contains("name: `lobby.${string}`;"));
//! assert!(module.contains(r#"emits: { "said": Said };"#));
//! assert!(module.contains(r#"handles: { "say": Say };"#));
//! # Ok(()) }
//! ```
//!
//! A payload type derives [`TS`] (through `switchboard::typescript::ts_rs`, so its
//! version is the framework's: a type implementing another version's `TS` would not
//! count); one that does not is written `unknown`, and listed in the module's header.

mod records;
mod render;
mod template;
mod types;

pub use ts_rs::{self, TS};

#[doc(hidden)]
pub use records::{ChannelDecl, DirectDecl, Emitted, Handled, HandlersDecl, SocketDecl};
#[doc(hidden)]
pub use types::{Probe, TsType, TypeSet, ViaTs, ViaUnknown};

/// Why the declarations cannot be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeclarationError {
    /// Two Rust types are declared under one TypeScript name.
    #[error(
        "two payload types are both the TypeScript type `{name}` ({first} and {second}): \
         rename one with #[ts(rename = \"…\")]"
    )]
    NameClash {
        /// The TypeScript name.
        name: String,
        /// The Rust type declared first.
        first: &'static str,
        /// The other.
        second: &'static str,
    },
    /// A payload type takes a name the module declares itself.
    #[error(
        "the payload type {rust} is the TypeScript type `{name}`, a name the declarations \
         use themselves (Channels, Socket, App): rename it with #[ts(rename = \"…\")]"
    )]
    ReservedName {
        /// The TypeScript name.
        name: String,
        /// The Rust type.
        rust: &'static str,
    },
    /// A registered pattern does not parse (the macros check it, so only a record
    /// built by hand gets here).
    #[error("invalid channel pattern `{pattern}`: {reason}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// Why it is invalid.
        reason: String,
    },
}

/// The `.d.ts` module of every registered listener: payload type declarations, then
/// `Channels` (by pattern: `name`, `shadowedBy`, `emits`, `handles`, `acks`), `Socket`
/// (direct events) and `App`. Sorted, so the same program always writes the same text.
///
/// # Errors
///
/// Two payload types with one TypeScript name, or one named `Channels`, `Socket` or
/// `App`: see [`DeclarationError`].
pub fn declarations() -> Result<String, DeclarationError> {
    let channels: Vec<&ChannelDecl> = inventory::iter::<ChannelDecl>().collect();
    let handlers: Vec<&HandlersDecl> = inventory::iter::<HandlersDecl>().collect();
    let sockets: Vec<&SocketDecl> = inventory::iter::<SocketDecl>().collect();
    let directs: Vec<&DirectDecl> = inventory::iter::<DirectDecl>().collect();
    render::module(&channels, &handlers, &sockets, &directs)
}
