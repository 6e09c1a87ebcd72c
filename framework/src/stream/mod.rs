//! Streams: channels whose publications carry a position and are kept for a while, so
//! a client that comes back gets what it missed (`docs/protocol.md`, "Streams").
//!
//! A channel is a stream when its listener keeps history
//! (`#[channel("room.{id}", history(size = 100, ttl = "10m"))]`) or
//! `Websockets.toml` gives its pattern a `[[history.channels]]` entry. Every publication
//! on it gets the next `offset` of the channel's `epoch` and is kept, at most `size` of
//! them, until `ttl` has passed since the last one ([`History`]). A subscribe reads the
//! position, and what was published after the client's `since`, while the connection's
//! live feed of that channel is held back; the delivery layer then drops what the read
//! already covered, so nothing is delivered twice and nothing is skipped.
//!
//! On one node (the memory backplane) the history is kept here ([`History`]); across
//! nodes Redis keeps it, positioning each publication atomically, and the backplane's
//! bridge delivers, repairs gaps and reads for subscribes (`transport/bridge/streams.rs`).
//!
//! A user's sends can be a stream too (`[history.users]`): kept under the user's
//! [`user_stream`] name, read when the user's connection opens, with the `since` its
//! handshake carried, before `ready` goes out.
//!
//! Layout: `spec` (what a listener declares), `position` (offsets, epochs and the
//! client's `since`), `history` (the in-memory store of one node, and the recovery rule
//! both paths share).

mod history;
mod position;
mod spec;

pub use spec::HistorySpec;

pub(crate) use history::{History, Recovery, new_epoch, recover};
pub(crate) use position::{Position, Since, positioned};

use std::sync::Arc;

/// The name a user's stream is kept under: no channel can have it (`#` is not a
/// channel character), so it never shares a history with one.
pub(crate) fn user_stream(user: &str) -> Arc<str> {
    format!("#user:{user}").into()
}

/// Which channels are streams, and with what history (the listener's declaration or
/// the configuration's override, resolved like routing).
pub(crate) type StreamSpecs = Arc<dyn Fn(&str) -> Option<HistorySpec> + Send + Sync>;
