use std::fmt;

/// The `error.code` of an `error` packet or a failed `ack`.
///
/// ```
/// use switchboard::protocol::ErrorCode;
/// assert_eq!(ErrorCode::NotSubscribed.as_str(), "not_subscribed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The frame is not valid JSON.
    BadJson,
    /// Valid JSON, but not a packet (not an object, no `event`, wrong field types).
    BadPacket,
    /// The packet's `data` does not have the shape the event expects.
    BadPayload,
    /// No channel listener matches the channel name.
    UnknownChannel,
    /// A channel event for a channel this connection has not joined.
    NotSubscribed,
    /// No listener handles this event.
    UnknownEvent,
    /// Middleware or `is_authorised` refused.
    Unauthorised,
    /// `limits.max_subscriptions` reached.
    TooManySubscriptions,
    /// `limits.messages_per_second` exceeded.
    RateLimited,
    /// The event handler returned an error (or ran past its time: reason `timeout`).
    HandlerError,
    /// The channel has more events waiting than `limits.channel_queue`: this one is
    /// refused rather than queued.
    Overloaded,
    /// A fault on the server's side.
    Internal,
}

impl ErrorCode {
    /// Every code, in a stable order.
    pub const ALL: [ErrorCode; 12] = [
        Self::BadJson,
        Self::BadPacket,
        Self::BadPayload,
        Self::UnknownChannel,
        Self::NotSubscribed,
        Self::UnknownEvent,
        Self::Unauthorised,
        Self::TooManySubscriptions,
        Self::RateLimited,
        Self::HandlerError,
        Self::Overloaded,
        Self::Internal,
    ];

    /// This code's position in [`Self::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The code as it appears on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BadJson => "bad_json",
            Self::BadPacket => "bad_packet",
            Self::BadPayload => "bad_payload",
            Self::UnknownChannel => "unknown_channel",
            Self::NotSubscribed => "not_subscribed",
            Self::UnknownEvent => "unknown_event",
            Self::Unauthorised => "unauthorised",
            Self::TooManySubscriptions => "too_many_subscriptions",
            Self::RateLimited => "rate_limited",
            Self::HandlerError => "handler_error",
            Self::Overloaded => "overloaded",
            Self::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// WebSocket close codes the server uses.
///
/// ```
/// use switchboard::protocol::CloseCode;
/// assert_eq!(u16::from(CloseCode::SlowConsumer), 4008);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseCode {
    /// 1000: normal close.
    Normal,
    /// 1001: the server is shutting down.
    GoingAway,
    /// 1002: the peer broke the WebSocket protocol.
    ProtocolError,
    /// 1007: a text frame was not valid UTF-8.
    InvalidPayload,
    /// 1009: a frame or message larger than `limits.max_message_bytes`.
    TooBig,
    /// 1011: internal error.
    Internal,
    /// 4000: nothing heard within `heartbeat.timeout_secs`.
    HeartbeatTimeout,
    /// 4001: the token expired during the connection.
    TokenExpired,
    /// 4008: the outbound queue was full (the client reads too slowly).
    SlowConsumer,
    /// 4029: the rate limit was exceeded repeatedly.
    Flood,
}

impl CloseCode {
    /// A short human-readable reason sent with the close frame.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Normal => "normal close",
            Self::GoingAway => "server shutting down",
            Self::ProtocolError => "websocket protocol error",
            Self::InvalidPayload => "text frame is not valid UTF-8",
            Self::TooBig => "message larger than limits.max_message_bytes",
            Self::Internal => "internal error",
            Self::HeartbeatTimeout => "heartbeat timeout",
            Self::TokenExpired => "token expired",
            Self::SlowConsumer => "slow consumer: outbound queue full",
            Self::Flood => "rate limit exceeded repeatedly",
        }
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        match code {
            CloseCode::Normal => 1000,
            CloseCode::GoingAway => 1001,
            CloseCode::ProtocolError => 1002,
            CloseCode::InvalidPayload => 1007,
            CloseCode::TooBig => 1009,
            CloseCode::Internal => 1011,
            CloseCode::HeartbeatTimeout => 4000,
            CloseCode::TokenExpired => 4001,
            CloseCode::SlowConsumer => 4008,
            CloseCode::Flood => 4029,
        }
    }
}

impl From<CloseCode> for actix_http::ws::CloseReason {
    fn from(code: CloseCode) -> Self {
        actix_http::ws::CloseReason {
            code: actix_http::ws::CloseCode::from(u16::from(code)),
            description: Some(code.reason().to_owned()),
        }
    }
}
