//! [`Initiator`]: the connection whose action caused a write, left out of the signal it
//! raises (it already shows what it wrote).

use std::sync::Arc;

use crate::delivery::Except;
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
pub struct Initiator {
    connection: Option<ConnectionId>,
    /// The connection's user, for leaving out all of their connections instead.
    user: Option<Arc<str>>,
}

impl Initiator {
    /// No known initiator: everyone is signalled.
    pub fn none() -> Self {
        Self::default()
    }

    /// A connection trusted to be the writer's (checked by the caller), and its user.
    pub(crate) fn trusted(id: ConnectionId, user: Option<Arc<str>>) -> Self {
        Self {
            connection: Some(id),
            user,
        }
    }

    /// The connection left out, if any.
    pub fn connection_id(&self) -> Option<&str> {
        self.connection.as_ref().map(ConnectionId::as_str)
    }

    /// The initiating connection's user, if it has one.
    pub fn user_id(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// Who a send leaves out: the connection, or (`whole_user`) every connection of its
    /// user when it has one.
    pub(crate) fn except(&self, whole_user: bool) -> Option<Except> {
        match (&self.user, &self.connection) {
            (Some(user), _) if whole_user => Some(Except::User(user.clone())),
            (_, Some(id)) => Some(Except::Connection(id.clone())),
            (_, None) => None,
        }
    }
}
