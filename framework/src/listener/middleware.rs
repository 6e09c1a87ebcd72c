use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::{Connection, SocketError};
use super::{Handshake, Rejection};
use crate::config::{ConfigError, Settings};

/// A boxed future, as middleware hooks return (they run on the connection's thread).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A step every connection passes: on the handshake, on subscribe, and (for a channel
/// listener's own middleware) before each of that channel's events.
///
/// Both hooks have defaults that let everything through, so a middleware implements
/// only what it checks.
///
/// ```
/// use switchboard::auth::{BoxFuture, Middleware};
/// use switchboard::{Connection, SocketError};
///
/// /// Refuses channels whose name mentions "admin" to everyone but user 1.
/// struct AdminOnly;
///
/// impl Middleware for AdminOnly {
///     fn channel<'a>(&'a self, conn: &'a Connection) -> BoxFuture<'a, Result<(), SocketError>> {
///         Box::pin(async move {
///             let admin_channel = conn.channel().is_some_and(|c| c.contains("admin"));
///             if admin_channel && conn.user_id() != Some("1") {
///                 return Err(SocketError::unauthorised("admins only"));
///             }
///             Ok(())
///         })
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    note = "implement `switchboard::auth::Middleware` for `{Self}`; both hooks have defaults"
)]
pub trait Middleware: Send + Sync + 'static {
    /// Runs before the WebSocket upgrade. May authenticate ([`Handshake::set_claims`],
    /// [`Handshake::set_user`]) or refuse; a refusal is the HTTP answer.
    fn handshake<'a>(
        &'a self,
        handshake: &'a mut Handshake<'_>,
    ) -> BoxFuture<'a, Result<(), Rejection>> {
        let _ = handshake;
        Box::pin(async { Ok(()) })
    }

    /// Runs when a connection subscribes to a channel, and before each event of a
    /// channel whose listener lists this middleware. A refusal answers the client with
    /// its code (usually `unauthorised`).
    fn channel<'a>(&'a self, connection: &'a Connection) -> BoxFuture<'a, Result<(), SocketError>> {
        let _ = connection;
        Box::pin(async { Ok(()) })
    }
}

/// A middleware that `Websockets.toml` can name in `middleware = [...]`.
///
/// Register one with [`register_middleware!`](crate::register_middleware).
#[derive(Debug)]
pub struct MiddlewareRegistration {
    pub(crate) name: &'static str,
    pub(crate) build: fn(&Settings) -> Result<Arc<dyn Middleware>, ConfigError>,
}

impl MiddlewareRegistration {
    /// A named middleware built from the settings when the server starts.
    pub const fn new(
        name: &'static str,
        build: fn(&Settings) -> Result<Arc<dyn Middleware>, ConfigError>,
    ) -> Self {
        Self { name, build }
    }
}

inventory::collect!(MiddlewareRegistration);

/// Registers a middleware under a name that `Websockets.toml` can list.
///
/// ```
/// use std::sync::Arc;
/// use switchboard::auth::Middleware;
/// use switchboard::config::{ConfigError, Settings};
///
/// struct Audit;
/// impl Middleware for Audit {}
///
/// fn audit(_: &Settings) -> Result<Arc<dyn Middleware>, ConfigError> {
///     Ok(Arc::new(Audit))
/// }
/// switchboard::register_middleware!("audit", audit);
/// ```
#[macro_export]
macro_rules! register_middleware {
    ($name:literal, $build:path) => {
        $crate::__private::inventory::submit! {
            $crate::__private::MiddlewareRegistration::new($name, $build)
        }
    };
}
