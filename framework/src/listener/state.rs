//! Application state in listeners, and the open set of handler parameters.
//!
//! A value registered once on the builder (`.state(pool)`) reaches every hook and event
//! that asks for it as a [`State<T>`] parameter, the way actix-web's `web::Data<T>` does.
//! Any type implementing [`FromInvocation`] may be a parameter; one that does not is a
//! compile error on that parameter.

use std::any::{Any, TypeId, type_name};
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::{Connection, EventContext, Invocation, Packet, SocketError};
use crate::protocol::ErrorCode;

/// Shared application state, registered with
/// [`SwitchboardBuilder::state`](crate::SwitchboardBuilder::state) and asked for by a
/// handler parameter.
///
/// ```standalone_crate
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use switchboard::prelude::*;
/// use switchboard::State;
///
/// #[derive(Default)]
/// pub struct Visits {
///     count: AtomicU64,
/// }
///
/// #[derive(ChannelListener, Default)]
/// #[channel("page.{id}")]
/// pub struct Page;
///
/// #[channel_events]
/// impl Page {
///     pub async fn view(&self, visits: State<Visits>) -> Result<u64, SocketError> {
///         Ok(visits.count.fetch_add(1, Ordering::Relaxed) + 1)
///     }
/// }
///
/// # fn main() -> Result<(), switchboard::StartError> {
/// # let mut settings = switchboard::config::Settings::default();
/// # settings.jwt.secret = switchboard::config::Secret::new("a-secret-of-at-least-thirty-two-bytes");
/// let switchboard = switchboard::Switchboard::builder(settings)
///     .state(Visits::default()) // without it, build() names `Page` and `Visits`
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct State<T: ?Sized>(Arc<T>);

impl<T: ?Sized> State<T> {
    /// The shared value itself, e.g. to keep it past the call.
    pub fn into_arc(self) -> Arc<T> {
        self.0
    }
}

impl<T: ?Sized> Clone for State<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: ?Sized> Deref for State<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// A value a hook or event method can take as a parameter, built from the call.
///
/// Implemented for [`EventContext`], [`Connection`], [`Packet<T>`] and [`State<T>`];
/// implement it for your own types to extract them the same way. (`&Connection`,
/// `&YourUser` and `Option<&YourUser>` are borrowed from the call and need no impl.)
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a listener parameter",
    label = "not extractable",
    note = "parameters are `EventContext`, `Packet<T>`, `Connection`, `&Connection`, `&YourUser`, `Option<&YourUser>`, `State<T>`, or a type implementing `switchboard::FromInvocation`"
)]
pub trait FromInvocation: Sized {
    /// Builds the value, or refuses the call (the client gets the error).
    fn from_invocation(invocation: &Invocation) -> Result<Self, SocketError>;
}

impl FromInvocation for EventContext {
    fn from_invocation(invocation: &Invocation) -> Result<Self, SocketError> {
        Ok(invocation.context())
    }
}

impl FromInvocation for Connection {
    fn from_invocation(invocation: &Invocation) -> Result<Self, SocketError> {
        Ok(invocation.connection().clone())
    }
}

impl<T: DeserializeOwned> FromInvocation for Packet<T> {
    fn from_invocation(invocation: &Invocation) -> Result<Self, SocketError> {
        invocation.packet()
    }
}

impl<T: Any + Send + Sync> FromInvocation for State<T> {
    fn from_invocation(invocation: &Invocation) -> Result<Self, SocketError> {
        invocation.state()
    }
}

/// Every registered state value, by type.
#[derive(Default)]
pub(crate) struct States {
    values: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for States {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("States")
            .field("values", &self.values.len())
            .finish()
    }
}

impl States {
    pub(crate) fn insert<T: Any + Send + Sync>(&mut self, value: Arc<T>) {
        self.values.insert(TypeId::of::<T>(), value);
    }

    pub(crate) fn contains(&self, id: TypeId) -> bool {
        self.values.contains_key(&id)
    }

    pub(crate) fn get<T: Any + Send + Sync>(&self) -> Result<State<T>, SocketError> {
        self.values
            .get(&TypeId::of::<T>())
            .cloned()
            .and_then(|value| value.downcast::<T>().ok())
            .map(State)
            .ok_or_else(|| {
                // The start-up check makes this unreachable for `State<T>` parameters;
                // a hand-written extractor may still ask for one that is missing.
                tracing::error!(state = type_name::<T>(), "no such state was registered");
                SocketError::with_code(ErrorCode::Internal, "missing state on the server")
            })
    }
}
