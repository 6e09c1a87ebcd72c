use std::any::Any;
use std::sync::Arc;

use crate::auth::Middleware;
use crate::listener::{
    AuthFuture, ChannelEvents, EventFuture, Invocation, SocketError, SocketHandler, UserType,
};
use crate::presence::PresenceMode;
use crate::protocol::ErrorCode;
use crate::stream::HistorySpec;

/// A listener instance, type-erased so one table holds every listener type.
pub(crate) type Erased = Arc<dyn Any + Send + Sync>;

/// One channel listener, as `#[derive(ChannelListener)]` submits it to `inventory`:
/// its pattern and plain function pointers, all known at compile time.
#[derive(Debug)]
pub struct ChannelRegistration {
    pub(crate) name: &'static str,
    pub(crate) pattern: &'static str,
    pub(crate) events: &'static [&'static str],
    pub(crate) user_types: &'static [UserType],
    pub(crate) state_types: &'static [UserType],
    pub(crate) history: Option<HistorySpec>,
    pub(crate) presence: Option<PresenceMode>,
    pub(crate) create: fn() -> Erased,
    pub(crate) authorise: fn(Erased, Invocation) -> AuthFuture,
    pub(crate) dispatch: fn(Erased, &str, Invocation) -> Option<EventFuture>,
    pub(crate) middlewares: fn(&Erased) -> Vec<Arc<dyn Middleware>>,
    /// `on_join` and `on_leave`, when the listener has them.
    pub(crate) on_join: Option<fn(Erased, Invocation) -> EventFuture>,
    pub(crate) on_leave: Option<fn(Erased, Invocation) -> EventFuture>,
}

impl ChannelRegistration {
    /// The registration of listener `T`.
    pub const fn of<T: ChannelEvents>() -> Self {
        Self {
            name: T::NAME,
            pattern: T::PATTERN,
            events: T::EVENTS,
            user_types: T::USER_TYPES,
            state_types: T::STATE_TYPES,
            history: T::HISTORY,
            presence: T::PRESENCE,
            create: create::<T>,
            authorise: authorise::<T>,
            dispatch: dispatch::<T>,
            middlewares: middlewares::<T>,
            on_join: if T::ON_JOIN { Some(on_join::<T>) } else { None },
            on_leave: if T::ON_LEAVE {
                Some(on_leave::<T>)
            } else {
                None
            },
        }
    }

    /// The listener type's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// What its channels keep when they are streams, as the listener declares it.
    pub fn history(&self) -> Option<HistorySpec> {
        self.history
    }

    /// Whether its channels keep presence, and how, as the listener declares it.
    pub fn presence(&self) -> Option<PresenceMode> {
        self.presence
    }

    /// The channel pattern.
    pub fn pattern(&self) -> &'static str {
        self.pattern
    }

    /// The events it handles.
    pub fn events(&self) -> &'static [&'static str] {
        self.events
    }
}

/// One socket listener, as `#[derive(SocketListener)]` submits it to `inventory`.
#[derive(Debug)]
pub struct SocketRegistration {
    pub(crate) name: &'static str,
    pub(crate) event: &'static str,
    pub(crate) user_types: &'static [UserType],
    pub(crate) state_types: &'static [UserType],
    pub(crate) create: fn() -> Erased,
    pub(crate) handle: fn(Erased, Invocation) -> EventFuture,
}

impl SocketRegistration {
    /// The registration of listener `T`.
    pub const fn of<T: SocketHandler>() -> Self {
        Self {
            name: T::NAME,
            event: T::EVENT,
            user_types: <T as SocketHandler>::USER_TYPES,
            state_types: <T as SocketHandler>::STATE_TYPES,
            create: create::<T>,
            handle: handle::<T>,
        }
    }

    /// The listener type's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The event it handles.
    pub fn event(&self) -> &'static str {
        self.event
    }
}

inventory::collect!(ChannelRegistration);
inventory::collect!(SocketRegistration);

fn create<T: Default + Send + Sync + 'static>() -> Erased {
    Arc::new(T::default())
}

/// The erased instance always holds a `T` (it was made by `create::<T>`); the check
/// only guards against a table wired wrongly by hand.
fn downcast<T: Send + Sync + 'static>(listener: Erased) -> Result<Arc<T>, SocketError> {
    listener.downcast::<T>().map_err(|_| {
        SocketError::with_code(ErrorCode::Internal, "listener instance of the wrong type")
    })
}

fn authorise<T: ChannelEvents>(listener: Erased, invocation: Invocation) -> AuthFuture {
    match downcast::<T>(listener) {
        Ok(listener) => listener.authorise(invocation),
        Err(e) => Box::pin(async move { Err(e) }),
    }
}

fn dispatch<T: ChannelEvents>(
    listener: Erased,
    event: &str,
    invocation: Invocation,
) -> Option<EventFuture> {
    match downcast::<T>(listener) {
        Ok(listener) => listener.dispatch(event, invocation),
        Err(e) => Some(Box::pin(async move { Err(e) })),
    }
}

fn on_join<T: ChannelEvents>(listener: Erased, invocation: Invocation) -> EventFuture {
    match downcast::<T>(listener) {
        Ok(listener) => listener.on_join(invocation),
        Err(e) => Box::pin(async move { Err(e) }),
    }
}

fn on_leave<T: ChannelEvents>(listener: Erased, invocation: Invocation) -> EventFuture {
    match downcast::<T>(listener) {
        Ok(listener) => listener.on_leave(invocation),
        Err(e) => Box::pin(async move { Err(e) }),
    }
}

fn middlewares<T: ChannelEvents>(listener: &Erased) -> Vec<Arc<dyn Middleware>> {
    listener
        .downcast_ref::<T>()
        .map(ChannelEvents::middlewares)
        .unwrap_or_default()
}

fn handle<T: SocketHandler>(listener: Erased, invocation: Invocation) -> EventFuture {
    match downcast::<T>(listener) {
        Ok(listener) => listener.invoke(invocation),
        Err(e) => Box::pin(async move { Err(e) }),
    }
}
