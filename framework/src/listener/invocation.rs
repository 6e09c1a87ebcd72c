use std::any::Any;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Connection, EventContext, Packet, SocketError, State, States};
use crate::delivery::Outbox;
use crate::protocol::ErrorCode;
use crate::send::SocketServer;

/// One call of a hook or event method, as generated code sees it. Applications do not
/// build these; the macros read their parameters from it.
#[derive(Debug)]
pub struct Invocation {
    pub(crate) connection: Connection,
    pub(crate) event: Arc<str>,
    pub(crate) data: Value,
    pub(crate) id: Option<u64>,
    pub(crate) server: SocketServer,
    pub(crate) outbox: Outbox,
    pub(crate) states: Arc<States>,
    /// Why the connection left, for the `on_leave` hook.
    pub(crate) leave: Option<super::LeaveReason>,
}

impl Invocation {
    /// The caller's connection (for `&Connection` parameters).
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// A context for the handler (for `EventContext` parameters).
    pub fn context(&self) -> EventContext {
        EventContext {
            connection: self.connection.clone(),
            event: self.event.clone(),
            server: self.server.clone(),
            outbox: self.outbox.clone(),
        }
    }

    /// The payload as `T` (for `Packet<T>` parameters).
    pub fn packet<T: DeserializeOwned>(&self) -> Result<Packet<T>, SocketError> {
        Packet::extract(self)
    }

    /// The user as `U` (for `&U` parameters): refused with `unauthorised` when the
    /// connection is anonymous.
    pub fn require_user<U: Any>(&self) -> Result<&U, SocketError> {
        let user =
            self.connection.user.as_ref().ok_or_else(|| {
                SocketError::unauthorised("this event needs an authenticated user")
            })?;
        user.model.downcast_ref().ok_or_else(|| {
            tracing::error!(
                expected = std::any::type_name::<U>(),
                "a listener asks for a user type the user resolver does not produce"
            );
            SocketError::with_code(ErrorCode::Internal, "user type mismatch on the server")
        })
    }

    /// The registered state of type `T` (for `State<T>` parameters).
    pub fn state<T: Any + Send + Sync>(&self) -> Result<State<T>, SocketError> {
        self.states.get()
    }

    /// The user as `U`, or `None` when anonymous (for `Option<&U>` parameters).
    pub fn user<U: Any>(&self) -> Option<&U> {
        self.connection.user()
    }
}
