//! What lifecycle hooks are told: why a connection left a channel (`on_leave`), and how
//! a connection ended (`on_disconnect`).

use std::sync::Arc;

use super::{Connection, FromInvocation, Invocation, SocketError};
use crate::protocol::ErrorCode;

/// Why a connection left a channel, as `on_leave` reads it (a parameter of type
/// `LeaveReason`).
///
/// ```
/// use switchboard::prelude::*;
/// use switchboard::listener::LeaveReason;
///
/// #[derive(ChannelListener, Default)]
/// #[channel("lounge.{id}")]
/// struct Lounge;
///
/// #[channel_events]
/// impl Lounge {
///     async fn on_leave(&self, ctx: EventContext, reason: LeaveReason) -> Result<(), SocketError> {
///         if let LeaveReason::Disconnected { .. } = reason {
///             ctx.broadcast_except_sender("went-away", &serde_json::json!({}))?;
///         }
///         Ok(())
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeaveReason {
    /// The client asked to leave (`unsubscribe-channel-request`).
    Unsubscribed,
    /// The connection ended: `code` is its close code, `None` when it ended without a
    /// close handshake (lost, or aborted for not reading).
    Disconnected {
        /// The close code.
        code: Option<u16>,
    },
    /// Its authorisation no longer passes (after a token refresh or a `reauthorise`):
    /// the client was told with `unsubscribed`.
    Unauthorised,
    /// The server took it out (server-side control: `SocketServer::unsubscribe`); the
    /// client was told with `unsubscribed`.
    Removed,
}

impl LeaveReason {
    /// A short name: `unsubscribed`, `disconnected`, `unauthorised` or `removed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Unsubscribed => "unsubscribed",
            Self::Disconnected { .. } => "disconnected",
            Self::Unauthorised => "unauthorised",
            Self::Removed => "removed",
        }
    }
}

impl FromInvocation for LeaveReason {
    fn from_invocation(invocation: &Invocation) -> Result<Self, SocketError> {
        invocation.leave.ok_or_else(|| {
            SocketError::with_code(
                ErrorCode::Internal,
                "a `LeaveReason` is only known to the `on_leave` hook",
            )
        })
    }
}

/// How a connection ended, as an `on_disconnect` hook reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnection {
    pub(crate) code: Option<u16>,
}

impl Disconnection {
    /// The close code the connection ended with (the server's, or the client's echoed
    /// back): 1000 normal, 1001 server shutting down, 4000 heartbeat timeout, …
    /// (`docs/protocol.md`, "Close codes"); `None` when it ended without a close
    /// handshake (the network was lost, or the client stopped reading).
    pub fn code(&self) -> Option<u16> {
        self.code
    }
}

/// A hook's future: run on the connection's thread, so it need not be `Send`.
type HookFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

/// What the application says about a user in presence (`info`), from their user model.
pub(crate) type PresenceInfo =
    Arc<dyn Fn(&(dyn std::any::Any + Send + Sync)) -> Option<serde_json::Value> + Send + Sync>;

/// `on_connect`, `on_disconnect` and the presence `info` resolver, as registered on the
/// builder.
#[derive(Clone, Default)]
pub(crate) struct ConnectionHooks {
    pub(crate) on_connect: Option<Arc<dyn Fn(Connection) -> HookFuture + Send + Sync>>,
    pub(crate) on_disconnect:
        Option<Arc<dyn Fn(Connection, Disconnection) -> HookFuture + Send + Sync>>,
    pub(crate) presence_info: Option<PresenceInfo>,
}

impl std::fmt::Debug for ConnectionHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionHooks")
            .field("on_connect", &self.on_connect.is_some())
            .field("on_disconnect", &self.on_disconnect.is_some())
            .field("presence_info", &self.presence_info.is_some())
            .finish()
    }
}

impl ConnectionHooks {
    pub(crate) fn set_on_connect<F, Fut>(&mut self, hook: F)
    where
        F: Fn(Connection) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        self.on_connect = Some(Arc::new(move |connection| Box::pin(hook(connection))));
    }

    /// `resolve` runs on the user model of type `U` (what the user resolver makes); a
    /// connection whose user is of another type has no info.
    pub(crate) fn set_presence_info<U, F>(&mut self, resolve: F)
    where
        U: std::any::Any,
        F: Fn(&U) -> Option<serde_json::Value> + Send + Sync + 'static,
    {
        self.presence_info = Some(Arc::new(move |model| {
            let model: &dyn std::any::Any = model;
            model.downcast_ref::<U>().and_then(&resolve)
        }));
    }

    pub(crate) fn set_on_disconnect<F, Fut>(&mut self, hook: F)
    where
        F: Fn(Connection, Disconnection) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        self.on_disconnect = Some(Arc::new(move |connection, ending| {
            Box::pin(hook(connection, ending))
        }));
    }
}
