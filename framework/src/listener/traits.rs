use std::any::TypeId;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::Middleware;
use super::{Invocation, SocketError};
use crate::protocol::ErrorCode;

/// What an event method returns once erased: the ack's `data`, or the refusal.
pub type EventFuture = Pin<Box<dyn Future<Output = Result<Value, SocketError>>>>;
/// What an authorisation hook returns once erased.
pub type AuthFuture = Pin<Box<dyn Future<Output = Result<(), SocketError>>>>;

/// A type that a listener's hooks or events ask for: a user type (`&User`,
/// `Option<&User>`), checked against the user resolver when the server starts, or a
/// state type (`State<T>`), checked against the registered state.
#[derive(Debug, Clone, Copy)]
pub struct UserType {
    id: fn() -> TypeId,
    name: fn() -> &'static str,
}

impl UserType {
    /// The user type `T`.
    pub const fn of<T: 'static>() -> Self {
        Self {
            id: TypeId::of::<T>,
            name: std::any::type_name::<T>,
        }
    }

    pub(crate) fn id(&self) -> TypeId {
        (self.id)()
    }

    pub(crate) fn name(&self) -> &'static str {
        (self.name)()
    }
}

/// A channel listener: a type bound to a channel pattern.
/// Implemented by `#[derive(ChannelListener)]` with `#[channel("pattern")]`.
pub trait ChannelListener: Default + Send + Sync + 'static {
    /// The pattern, e.g. `user:chat.{id}`.
    const PATTERN: &'static str;
    /// The type's name, for start-up errors.
    const NAME: &'static str;
    /// What its channels keep when they are streams
    /// (`#[channel("room.{id}", history(size = 100, ttl = "10m"))]`).
    const HISTORY: Option<crate::stream::HistorySpec> = None;
    /// Whether its channels keep presence, and how
    /// (`#[channel("room.{id}", presence)]`, or `presence(counts)`).
    const PRESENCE: Option<crate::presence::PresenceMode> = None;
}

/// The hooks and events of a channel listener. Implemented by `#[channel_events]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no channel events",
    label = "derives ChannelListener but has no `#[channel_events]` impl block",
    note = "add `#[switchboard::channel_events] impl {Self} {{ … }}` (it may be empty)"
)]
pub trait ChannelEvents: ChannelListener {
    /// Event names this listener handles, in declaration order.
    const EVENTS: &'static [&'static str];

    /// The user types its hooks and events take.
    const USER_TYPES: &'static [UserType] = &[];

    /// The state types (`State<T>`) its hooks and events take.
    const STATE_TYPES: &'static [UserType] = &[];

    /// Starts the handler for `event`; `None` when this listener has no such event.
    fn dispatch(self: Arc<Self>, event: &str, invocation: Invocation) -> Option<EventFuture>;

    /// Runs `is_authorised` on subscribe; everyone is authorised when it is absent.
    fn authorise(self: Arc<Self>, invocation: Invocation) -> AuthFuture {
        let _ = invocation;
        Box::pin(async { Ok(()) })
    }

    /// Whether it has an `on_join` hook (the session tells the channel's actor only then).
    const ON_JOIN: bool = false;

    /// Whether it has an `on_leave` hook.
    const ON_LEAVE: bool = false;

    /// Runs `on_join` in the channel's actor once a connection has joined the channel,
    /// in order with the channel's events.
    fn on_join(self: Arc<Self>, invocation: Invocation) -> EventFuture {
        let _ = invocation;
        Box::pin(async { Ok(Value::Null) })
    }

    /// Runs `on_leave` in the channel's actor once a connection has left the channel
    /// (a [`LeaveReason`](super::LeaveReason) parameter says why), in order with the
    /// channel's events.
    fn on_leave(self: Arc<Self>, invocation: Invocation) -> EventFuture {
        let _ = invocation;
        Box::pin(async { Ok(Value::Null) })
    }

    /// Middleware of this listener, run on subscribe (after the global middleware)
    /// and before each of its events; from the listener's `fn middlewares(&self)`.
    fn middlewares(&self) -> Vec<Arc<dyn Middleware>> {
        Vec::new()
    }
}

/// A socket listener: handles one event sent without a channel.
/// Implemented by `#[derive(SocketListener)]` with `#[event("name")]`.
pub trait SocketListener: Default + Send + Sync + 'static {
    /// The event it handles.
    const EVENT: &'static str;
    /// The type's name, for start-up errors.
    const NAME: &'static str;
}

/// The handler of a socket listener. Implemented by `#[socket_handler]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no socket handler",
    label = "derives SocketListener but has no `#[socket_handler]` impl block",
    note = "add `#[switchboard::socket_handler] impl {Self} {{ async fn handle(&self, …) {{ … }} }}`"
)]
pub trait SocketHandler: SocketListener {
    /// The user types its handler takes.
    const USER_TYPES: &'static [UserType] = &[];

    /// The state types (`State<T>`) its handler takes.
    const STATE_TYPES: &'static [UserType] = &[];

    /// Starts the handler. Named `invoke` so it cannot clash with the user's `handle`.
    fn invoke(self: Arc<Self>, invocation: Invocation) -> EventFuture;
}

/// What event methods may return: `()` or `Result<T: Serialize, E: Into<SocketError>>`.
/// `T` becomes the `data` of the client's ack.
#[diagnostic::on_unimplemented(
    message = "an event method cannot return `{Self}`",
    label = "event methods return `()` or `Result<T, E>`",
    note = "return `Result<T, SocketError>` with `T: Serialize` (it becomes the ack's data), or `()`"
)]
pub trait IntoEventResult {
    /// Converts the method's result.
    fn into_event_result(self) -> Result<Value, SocketError>;
}

impl IntoEventResult for () {
    fn into_event_result(self) -> Result<Value, SocketError> {
        Ok(Value::Null)
    }
}

impl<T: Serialize, E: Into<SocketError>> IntoEventResult for Result<T, E> {
    fn into_event_result(self) -> Result<Value, SocketError> {
        let value = self.map_err(Into::into)?;
        serde_json::to_value(value).map_err(|e| {
            SocketError::with_code(
                ErrorCode::Internal,
                format!("reply does not serialize: {e}"),
            )
        })
    }
}

/// What `is_authorised` may return: `bool`, or `Result<(), E: Into<SocketError>>` to
/// give the client a reason.
#[diagnostic::on_unimplemented(
    message = "`is_authorised` cannot return `{Self}`",
    note = "return `bool`, or `Result<(), SocketError>` to tell the client why"
)]
pub trait IntoAuthorisation {
    /// Converts the hook's result; a refusal carries the code `unauthorised`.
    fn into_authorisation(self) -> Result<(), SocketError>;
}

impl IntoAuthorisation for bool {
    fn into_authorisation(self) -> Result<(), SocketError> {
        if self {
            Ok(())
        } else {
            Err(SocketError::unauthorised("not authorised for this channel"))
        }
    }
}

impl<E: Into<SocketError>> IntoAuthorisation for Result<(), E> {
    fn into_authorisation(self) -> Result<(), SocketError> {
        self.map_err(|e| {
            let e = e.into();
            match e.code() {
                ErrorCode::HandlerError => SocketError::unauthorised(e.message()),
                _ => e,
            }
        })
    }
}
