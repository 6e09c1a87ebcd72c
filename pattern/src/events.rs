//! Event names the protocol uses itself. They live here, beside channel names, because
//! the framework, the macros and the generator all check them and all depend on this
//! crate (a proc-macro crate cannot depend on the framework).

/// The reserved events (`switchboard::protocol::events::RESERVED`): no listener may
/// handle one, no application may send one.
///
/// ```
/// assert!(switchboard_pattern::RESERVED_EVENTS.contains(&"presence-join"));
/// ```
pub const RESERVED_EVENTS: [&str; 20] = [
    "ready",
    "ping",
    "pong",
    "subscribe-channel-request",
    "subscribe-channel-response",
    "unsubscribe-channel-request",
    "unsubscribe-channel-response",
    "ack",
    "error",
    "token-expiring",
    "refresh-token-request",
    "refresh-token-response",
    "unsubscribed",
    "resync",
    "subscribed",
    "disconnect",
    "presence-request",
    "presence-response",
    "presence-join",
    "presence-leave",
];
