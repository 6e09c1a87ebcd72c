//! Derive and attribute macros for Switchboard listeners.
//!
//! Use them through the framework (`use switchboard::prelude::*;`), which re-exports
//! them; the generated code refers only to `::switchboard::…`, so applications need
//! no other dependency for it to compile.
//!
//! * [`ChannelListener`] with `#[channel("pattern")]` and [`macro@channel_events`] on
//!   an impl block make a channel listener: a pattern, an optional `is_authorised`
//!   hook, and `pub async fn` events.
//! * [`SocketListener`] with `#[event("name")]` and [`macro@socket_handler`] on an
//!   impl block make a socket listener: one event, one `async fn handle`.
//!
//! Mistakes are compile errors at the offending token: an invalid pattern at its
//! string literal (checked by the runtime's own parser, `switchboard-pattern`), a
//! private event method at its name, an unsupported parameter at its type.

mod attr;
mod channel;
mod channel_attr;
mod emits;
mod errors;
mod history;
mod hooks;
mod item;
mod methods;
mod names;
mod params;
mod presence;
mod socket;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Makes a struct a channel listener bound to the pattern in `#[channel("…")]`, and
/// registers it (with its `#[channel_events]`) so the server finds it at start-up.
///
/// The pattern is checked at compile time: literal text of `[A-Za-z0-9_.:@=,-]`, with
/// `*` or `{name}` wildcards that match a non-empty run of characters other than `:`,
/// never two wildcards in a row. The struct needs `Default` (one instance is made per
/// active channel) and no generic parameters.
///
/// ```
/// use switchboard::prelude::*;
///
/// #[derive(ChannelListener, Default)]
/// #[channel("user:chat.{id}")]
/// pub struct UserChat;
///
/// #[channel_events]
/// impl UserChat {}
/// # fn main() {
/// # use switchboard::__private::ChannelListener as _;
/// # assert_eq!(UserChat::PATTERN, "user:chat.{id}");
/// # }
/// ```
///
/// A channel whose listener adds `history` is a stream: every publication carries an
/// `offset` and an `epoch`, the last `size` are kept until `ttl` after the last one,
/// and a client that reconnects with `since` gets what it missed (defaults: `size =
/// 100`, `ttl = "10m"`; durations in `s`, `m`, `h` or `d`):
///
/// ```
/// use switchboard::prelude::*;
///
/// #[derive(ChannelListener, Default)]
/// #[channel("room.{id}", history(size = 100, ttl = "10m"))]
/// pub struct Room;
///
/// #[channel_events]
/// impl Room {}
/// # fn main() {
/// # use switchboard::__private::ChannelListener as _;
/// # assert_eq!(Room::HISTORY, Some(switchboard::HistorySpec::new(100, 600)));
/// # }
/// ```
///
/// `emits(...)` declares the events the server sends on the channels and their payload
/// types (a union `A | B` where it sends several shapes), for the TypeScript
/// declarations of the typed browser client (`switchboard::typescript`, cargo feature
/// `typescript`); nothing at run time depends on it. An event is an identifier or a
/// string; without `emits`, the declarations let clients listen to any event:
///
/// ```
/// use serde::Serialize;
/// use switchboard::prelude::*;
///
/// #[derive(Serialize)]
/// pub struct Posted {
///     pub text: String,
/// }
///
/// #[derive(ChannelListener, Default)]
/// #[channel("room.{id}", emits(message = Posted, "message-deleted" = u64 | String))]
/// pub struct Room;
///
/// #[channel_events]
/// impl Room {}
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// use switchboard::prelude::*;
///
/// #[derive(ChannelListener, Default)]
/// #[channel("user:**")] // two wildcards in a row
/// pub struct Ambiguous;
/// # #[channel_events] impl Ambiguous {}
/// # fn main() {}
/// ```
#[proc_macro_derive(ChannelListener, attributes(channel))]
pub fn derive_channel_listener(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    channel::derive(&input).into()
}

/// The hooks and events of a channel listener, on an inherent impl block of a type
/// that derives [`ChannelListener`]. The block is emitted unchanged (minus `#[event]`
/// attributes) and the listener's `ChannelEvents` impl is added.
///
/// * `async fn is_authorised(&self, …)` (may be private) runs when a client
///   subscribes; it returns `bool`, or `Result<(), E: Into<SocketError>>` to give a
///   reason. Without it, everyone may subscribe.
/// * `async fn on_join(&self, …)` and `async fn on_leave(&self, …)` (may be private) run
///   in the channel's actor, in order with its events, once a connection has joined or
///   left; a `LeaveReason` parameter says why it left. They return `()` or
///   `Result<(), E>` (a failure is logged).
/// * Every other `async fn` taking `&self` is an event and must be `pub`. Its name is
///   the method's, or the one in `#[event("name")]`. It returns `()` or
///   `Result<T: Serialize, E: Into<SocketError>>`; `T` is the ack's data.
/// * Plain `fn`s are left alone.
///
/// Parameters after `&self` are recognised by their type, in any order:
///
/// | type | value |
/// |---|---|
/// | `EventContext`, `&EventContext` | the event's context (events, `on_join`, `on_leave`) |
/// | `Packet<T>` | the payload as `T: Deserialize`; a mismatch refuses the event with `bad_payload` (events only) |
/// | `&Connection`, `Connection` | the caller's connection |
/// | `&YourUser` | the caller's user; anonymous callers are refused with `unauthorised` |
/// | `Option<&YourUser>` | the caller's user, or `None` when anonymous |
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use serde_json::Value;
/// use switchboard::prelude::*;
///
/// pub struct AppUser {
///     pub id: String,
/// }
///
/// #[derive(Deserialize, Serialize)]
/// pub struct ChatMessage {
///     pub text: String,
/// }
///
/// #[derive(ChannelListener, Default)]
/// #[channel("user:chat.{id}")]
/// pub struct UserChat;
///
/// #[channel_events]
/// impl UserChat {
///     async fn is_authorised(&self, conn: &Connection, user: &AppUser) -> bool {
///         conn.param("id") == Some(user.id.as_str())
///     }
///
///     /// Event `message`.
///     pub async fn message(
///         &self,
///         ctx: EventContext,
///         packet: Packet<ChatMessage>,
///     ) -> Result<(), SocketError> {
///         ctx.broadcast_except_sender("message", &packet.data)?;
///         Ok(())
///     }
///
///     /// Event `deleted-message`; the client's ack carries the returned value.
///     #[event("deleted-message")]
///     pub async fn deleted(&self, packet: Packet<Value>) -> Result<Value, SocketError> {
///         Ok(packet.data)
///     }
/// }
/// # fn main() {
/// # use switchboard::__private::ChannelEvents as _;
/// # assert_eq!(UserChat::EVENTS, ["message", "deleted-message"]);
/// # }
/// ```
#[proc_macro_attribute]
pub fn channel_events(args: TokenStream, item: TokenStream) -> TokenStream {
    channel::events(args.into(), item.into()).into()
}

/// Makes a struct a socket listener for the event in `#[event("…")]` (sent without a
/// channel), and registers it (with its `#[socket_handler]`). The event name cannot
/// be empty or one the protocol reserves (`ready`, `ping`, `pong`, `ack`, `error`,
/// `subscribe-channel-request`, …). The struct needs `Default` and no generic
/// parameters.
///
/// ```
/// use serde_json::Value;
/// use switchboard::prelude::*;
///
/// #[derive(SocketListener, Default)]
/// #[event("echo")]
/// pub struct Echo;
///
/// #[socket_handler]
/// impl Echo {
///     async fn handle(&self, packet: Packet<Value>) -> Result<Value, SocketError> {
///         Ok(packet.data)
///     }
/// }
/// # fn main() {
/// # use switchboard::__private::SocketListener as _;
/// # assert_eq!(Echo::EVENT, "echo");
/// # }
/// ```
#[proc_macro_derive(SocketListener, attributes(event))]
pub fn derive_socket_listener(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    socket::derive(&input).into()
}

/// The handler of a socket listener, on an inherent impl block of a type that derives
/// [`SocketListener`]: the block must hold one `async fn handle(&self, …)` (of any
/// visibility), which takes parameters and returns values as events do (see
/// [`macro@channel_events`]).
///
/// ```
/// use switchboard::prelude::*;
///
/// pub struct AppUser {
///     pub name: String,
/// }
///
/// #[derive(SocketListener, Default)]
/// #[event("whoami")]
/// pub struct WhoAmI;
///
/// #[socket_handler]
/// impl WhoAmI {
///     async fn handle(&self, user: Option<&AppUser>) -> Result<String, SocketError> {
///         Ok(user.map_or_else(|| "anonymous".to_owned(), |u| u.name.clone()))
///     }
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn socket_handler(args: TokenStream, item: TokenStream) -> TokenStream {
    socket::handler(args.into(), item.into()).into()
}
