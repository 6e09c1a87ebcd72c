use std::fmt;

use crate::protocol::ErrorCode;

/// Why an event, a subscription or an extraction failed. The client receives its code
/// and message in an `error` packet (and a failed `ack` when it sent an `id`).
///
/// Any `std::error::Error` converts into it with `?` (code `handler_error`). Its text
/// is logged, not sent: a database error's text is no business of the client's, so the
/// client reads a generic message. Choose what the client reads with [`SocketError::new`].
///
/// ```
/// use switchboard::{SocketError, protocol::ErrorCode};
/// fn parse(n: &str) -> Result<u32, SocketError> {
///     Ok(n.parse::<u32>()?)
/// }
/// let e = parse("x").unwrap_err();
/// assert_eq!(e.code(), ErrorCode::HandlerError);
/// assert_eq!(e.message(), "the handler failed");
/// assert_eq!(SocketError::unauthorised("members only").code(), ErrorCode::Unauthorised);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketError {
    code: ErrorCode,
    message: String,
    reason: Option<&'static str>,
}

impl SocketError {
    /// A handler failure (`handler_error`) with a message for the client.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_code(ErrorCode::HandlerError, message)
    }

    /// A refusal with a specific protocol code.
    pub fn with_code(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            reason: None,
        }
    }

    /// Adds a machine-readable reason within the code (`timeout`), sent as the error
    /// packet's `reason`.
    pub fn with_reason(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }

    /// `unauthorised`, for hooks and middleware that refuse.
    pub fn unauthorised(message: impl Into<String>) -> Self {
        Self::with_code(ErrorCode::Unauthorised, message)
    }

    /// The protocol error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message the client receives.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The reason within the code, if any (`timeout`).
    pub fn reason(&self) -> Option<&'static str> {
        self.reason
    }
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl<E: std::error::Error> From<E> for SocketError {
    fn from(e: E) -> Self {
        tracing::warn!(error = %e, "a handler failed");
        Self::new(GENERIC_FAILURE)
    }
}

/// What the client reads when a handler failed with an error it did not word itself.
const GENERIC_FAILURE: &str = "the handler failed";
