use std::fmt;

use crate::protocol::ErrorCode;

/// Why an event, a subscription or an extraction failed. The client receives its code
/// and message in an `error` packet (and a failed `ack` when it sent an `id`).
///
/// It is a `std::error::Error`, so it composes with an application's own errors. Errors
/// that implement [`HandlerError`] convert into it with `?` (code `handler_error`, or the
/// one they choose); std's and serde_json's common errors do, and so does
/// `Box<dyn Error + Send + Sync>`. Their text is logged, not sent: a database error's
/// text is no business of the client's, so the client reads a generic message unless the
/// error words one itself ([`HandlerError::client_message`]). Choose what the client reads
/// with [`SocketError::new`].
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
///
/// // It is a std error: it boxes, and carries into an application's own error types.
/// let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
/// assert_eq!(boxed.to_string(), "handler_error: the handler failed");
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

impl std::error::Error for SocketError {}

/// An error a handler may return with `?`, and what the client reads of it.
///
/// Implement it for an application's own error type (one line, with the defaults) so that
/// `?` turns it into a [`SocketError`]: the error's text is logged, and the client reads
/// the [`code`](Self::code) and [`client_message`](Self::client_message), by default
/// `handler_error` and a generic message.
///
/// ```
/// use switchboard::{HandlerError, SocketError, protocol::ErrorCode};
///
/// #[derive(Debug, thiserror::Error)]
/// enum ReceiptError {
///     #[error("receipt {0} not found")]
///     NotFound(u64),
///     #[error("database: {0}")]
///     Database(String),
/// }
///
/// impl HandlerError for ReceiptError {
///     fn client_message(&self) -> String {
///         match self {
///             Self::NotFound(id) => format!("no receipt {id}"),
///             Self::Database(_) => "try again later".into(), // the cause is only logged
///         }
///     }
/// }
///
/// fn find(id: u64) -> Result<(), SocketError> {
///     Err(ReceiptError::NotFound(id))?
/// }
/// let e = find(7).unwrap_err();
/// assert_eq!((e.code(), e.message()), (ErrorCode::HandlerError, "no receipt 7"));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not say what a client reads when a handler fails with it",
    note = "implement `switchboard::HandlerError` for it (`impl HandlerError for {Self} {{}}` keeps \
            the defaults), or map it with `.map_err(SocketError::logged)`"
)]
pub trait HandlerError: std::error::Error {
    /// The protocol code the client reads: `handler_error` unless overridden.
    fn code(&self) -> ErrorCode {
        ErrorCode::HandlerError
    }

    /// The message the client reads. By default a generic one: the error's own text is
    /// logged, never sent, since it may say more than a client should know.
    fn client_message(&self) -> String {
        GENERIC_FAILURE.to_owned()
    }
}

impl<E: HandlerError> From<E> for SocketError {
    fn from(e: E) -> Self {
        tracing::warn!(error = %e, "a handler failed");
        Self::with_code(e.code(), e.client_message())
    }
}

/// Whatever a function gathered in a box: logged, and the client reads the generic
/// message.
impl From<Box<dyn std::error::Error + Send + Sync>> for SocketError {
    fn from(e: Box<dyn std::error::Error + Send + Sync>) -> Self {
        Self::logged(e)
    }
}

impl SocketError {
    /// A `handler_error` whose cause is logged, not sent: for `.map_err(SocketError::logged)`
    /// on an error type that does not implement [`HandlerError`].
    pub fn logged(cause: impl fmt::Display) -> Self {
        tracing::warn!(error = %cause, "a handler failed");
        Self::new(GENERIC_FAILURE)
    }
}

/// The errors handlers meet most often: each logged, the client reading the generic message.
macro_rules! handler_errors {
    ($($error:ty),* $(,)?) => {
        $(impl HandlerError for $error {})*
    };
}

handler_errors!(
    std::io::Error,
    std::fmt::Error,
    std::num::ParseIntError,
    std::num::ParseFloatError,
    std::str::ParseBoolError,
    std::str::Utf8Error,
    std::string::FromUtf8Error,
    std::char::ParseCharError,
    std::net::AddrParseError,
    std::time::SystemTimeError,
    serde_json::Error,
    tokio::time::error::Elapsed,
    crate::send::SendError,
);

#[cfg(feature = "postgres")]
handler_errors!(tokio_postgres::Error);

#[cfg(feature = "redis")]
handler_errors!(redis::RedisError);

/// What the client reads when a handler failed with an error it did not word itself.
const GENERIC_FAILURE: &str = "the handler failed";
