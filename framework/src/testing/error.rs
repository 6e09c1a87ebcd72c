//! [`TestError`]: why a test step failed.

use std::time::Duration;

use serde_json::Value;

use crate::{SendError, StartError};

/// Why a test step failed. Every variant says what was awaited or what came instead, so
/// a failing test's message is enough to start looking.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestError {
    /// Nothing (or nothing matching) arrived in time.
    #[error("timed out after {after:?} waiting for {awaited}")]
    Timeout {
        /// What the client waited for, e.g. `event "message"`.
        awaited: String,
        /// The client's timeout.
        after: Duration,
    },
    /// The server closed the connection (or it ended) while the client waited.
    #[error("connection closed (code {code:?}: {reason}) while waiting for {awaited}")]
    Closed {
        /// The close frame's code; `None` when the connection ended without one.
        code: Option<u16>,
        /// The close frame's reason, or how the connection ended.
        reason: String,
        /// What the client waited for.
        awaited: String,
    },
    /// The server refused: the WebSocket handshake (`code` is the HTTP status, as text,
    /// and `reason` the JSON error code), a subscription (`reason` from the
    /// `subscribe-channel-response`), or a packet sent with an ack (the `ack`'s error).
    #[error("refused: {code} {reason:?}: {message}")]
    Refused {
        /// The error code (`unauthorised`, `not_subscribed`, `handler_error`, an HTTP
        /// status for a refused handshake, …).
        code: String,
        /// The refinement, where the server gave one (`timeout`, `unknown_channel`, …).
        reason: Option<String>,
        /// The server's human-readable message.
        message: String,
    },
    /// A packet other than the one the step required arrived.
    #[error("expected {expected}, received {packet}")]
    Unexpected {
        /// What the step required.
        expected: String,
        /// What arrived instead (the first of them).
        packet: Value,
    },
    /// The server sent something that is not a protocol packet.
    #[error("bad packet from the server: {0}")]
    BadPacket(String),
    /// The WebSocket failed (handshake outside HTTP, I/O, protocol error).
    #[error("websocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    /// The server could not be built from its settings.
    #[error("server: {0}")]
    Start(#[from] StartError),
    /// The server could not bind 127.0.0.1.
    #[error("bind: {0}")]
    Bind(#[from] std::io::Error),
    /// Sending through the server (the marker of
    /// [`TestClient::assert_nothing_before`](super::TestClient::assert_nothing_before)) failed.
    #[error("send through the server: {0}")]
    Send(#[from] SendError),
    /// A token could not be signed.
    #[error("token: {0}")]
    Token(#[from] jsonwebtoken::errors::Error),
}
