//! Names of the reserved events. Any other event name belongs to the application.

/// s→c: the handshake is done; carries `connection_id` and `user_id`.
pub const READY: &str = "ready";
/// s→c: heartbeat; the client answers [`PONG`].
pub const PING: &str = "ping";
/// c→s: heartbeat answer.
pub const PONG: &str = "pong";
/// c→s: join a channel, `data: {channel}`.
pub const SUBSCRIBE_REQUEST: &str = "subscribe-channel-request";
/// s→c: answer to [`SUBSCRIBE_REQUEST`], `data: {channel, successful, reason?}`.
pub const SUBSCRIBE_RESPONSE: &str = "subscribe-channel-response";
/// c→s: leave a channel, `data: {channel}` (Envuso's client also sets the top-level `channel`).
pub const UNSUBSCRIBE_REQUEST: &str = "unsubscribe-channel-request";
/// s→c: answer to [`UNSUBSCRIBE_REQUEST`], `data: {channel, successful}`.
pub const UNSUBSCRIBE_RESPONSE: &str = "unsubscribe-channel-response";
/// s→c: answer to a packet that carried an `id`.
pub const ACK: &str = "ack";
/// s→c: a packet was refused.
pub const ERROR: &str = "error";
/// s→c: the token expires soon, `data: {expires_at}`; the client may refresh it.
pub const TOKEN_EXPIRING: &str = "token-expiring";
/// c→s: replace the connection's token, `data: {token}`.
pub const REFRESH_REQUEST: &str = "refresh-token-request";
/// s→c: answer to [`REFRESH_REQUEST`], `data: {successful, expires_at?, reason?, message?}`.
pub const REFRESH_RESPONSE: &str = "refresh-token-response";
/// s→c (with `channel`): the server took this connection out of the channel,
/// `data: {reason, message?}`.
pub const UNSUBSCRIBED: &str = "unsubscribed";
/// s→c (with `channel`): the server subscribed this connection to the channel,
/// `data: {offset?, epoch?}`.
pub const SUBSCRIBED: &str = "subscribed";
/// s→c: the server is closing this connection, `data: {code, reason, reconnect}`; the
/// close frame follows.
pub const DISCONNECT: &str = "disconnect";
/// s→c (with `channel`): publications on this stream were lost and cannot be
/// recovered; the client re-fetches. `data: {reason, offset, epoch}`.
pub const RESYNC: &str = "resync";

/// c→s (with `channel`): who is on this presence channel, `data: {}`.
pub const PRESENCE_REQUEST: &str = "presence-request";
/// s→c (with `channel`): answer to [`PRESENCE_REQUEST`],
/// `data: {count, connections, members?: [{user_id, info?}]}`.
pub const PRESENCE_RESPONSE: &str = "presence-response";
/// s→c (with `channel`): a user's first connection joined, on any node,
/// `data: {user_id, info?}`.
pub const PRESENCE_JOIN: &str = "presence-join";
/// s→c (with `channel`): a user's last connection left, or its node was lost,
/// `data: {user_id}`.
pub const PRESENCE_LEAVE: &str = "presence-leave";

/// Every reserved event: no listener may handle one, no application may send one.
pub const RESERVED: [&str; 20] = [
    READY,
    PING,
    PONG,
    SUBSCRIBE_REQUEST,
    SUBSCRIBE_RESPONSE,
    UNSUBSCRIBE_REQUEST,
    UNSUBSCRIBE_RESPONSE,
    ACK,
    ERROR,
    TOKEN_EXPIRING,
    REFRESH_REQUEST,
    REFRESH_RESPONSE,
    UNSUBSCRIBED,
    RESYNC,
    SUBSCRIBED,
    DISCONNECT,
    PRESENCE_REQUEST,
    PRESENCE_RESPONSE,
    PRESENCE_JOIN,
    PRESENCE_LEAVE,
];

/// Events only the server may send; a client sending one gets a `bad_packet` error.
pub const SERVER_ONLY: [&str; 15] = [
    READY,
    PING,
    SUBSCRIBE_RESPONSE,
    UNSUBSCRIBE_RESPONSE,
    ACK,
    ERROR,
    TOKEN_EXPIRING,
    REFRESH_RESPONSE,
    UNSUBSCRIBED,
    RESYNC,
    SUBSCRIBED,
    DISCONNECT,
    PRESENCE_RESPONSE,
    PRESENCE_JOIN,
    PRESENCE_LEAVE,
];

#[cfg(test)]
mod tests {
    /// The macros refuse reserved names at compile time from their own copy of the list
    /// (a proc-macro crate cannot depend on this one): it must be this list.
    #[test]
    fn the_macros_reserve_the_same_events() {
        let macros = include_str!("../../../macros/src/names.rs");
        for event in super::RESERVED {
            assert!(
                macros.contains(&format!("\"{event}\",")),
                "macros/src/names.rs does not reserve `{event}`"
            );
        }
        let listed = macros
            .split("RESERVED_EVENTS: [&str; ")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .and_then(|n| n.parse::<usize>().ok());
        assert_eq!(listed, Some(super::RESERVED.len()));
    }
}
