//! [`Initiator`]: the connection whose action caused a write, left out of the signal it
//! raises (it already shows what it wrote).

use crate::ids::ConnectionId;

/// The connection that caused a write, when it is known and may be trusted.
///
/// In an actix handler it is an extractor: it reads the `X-Socket-Id` header that the
/// browser client puts on its same-origin requests, and keeps it only when that
/// connection belongs to the user the request authenticates as (the framework's
/// middleware chain, e.g. the `Authorization: Bearer` token), so nobody can silence
/// someone else's page. Anything else (no header, an unknown or foreign connection, a
/// connection on another node) is `Initiator::none()`: every subscriber is signalled.
///
/// ```no_run
/// use actix_web::{HttpResponse, web};
/// use switchboard::{Initiator, SocketServer};
///
/// async fn post_message(
///     sockets: web::Data<SocketServer>,
///     initiator: Initiator,
/// ) -> HttpResponse {
///     // ... save the message, then: every page on room.42 but the poster's re-fetches.
///     let _ = sockets.signal_except("room.42", "message", &initiator);
///     HttpResponse::Created().finish()
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Initiator(Option<ConnectionId>);

impl Initiator {
    /// No known initiator: everyone is signalled.
    pub fn none() -> Self {
        Self(None)
    }

    /// A connection trusted to be the writer's (checked by the caller).
    pub(crate) fn trusted(id: ConnectionId) -> Self {
        Self(Some(id))
    }

    /// The connection left out, if any.
    pub fn connection_id(&self) -> Option<&str> {
        self.0.as_ref().map(ConnectionId::as_str)
    }

    pub(crate) fn into_inner(self) -> Option<ConnectionId> {
        self.0
    }
}
