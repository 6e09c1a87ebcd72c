//! Authentication: the middleware chain, the built-in JWT middleware, and users.
//!
//! On every WebSocket handshake the global middleware named in `Websockets.toml`
//! (`middleware = ["jwt"]`) runs in order, before the upgrade. A middleware may attach
//! verified claims or a user, or refuse with an HTTP status and a reason; a refused
//! handshake opens no socket. Claims become the application's user through its
//! [`UserResolver`] (by default a [`ClaimsUser`] keyed by `sub`). Without a user,
//! the connection is refused unless `auth.allow_anonymous` is set.
//!
//! The same middleware runs again when a connection subscribes to a channel, and a
//! channel listener may add its own (`fn middlewares(&self)`), which also runs before
//! each of its events.

mod chain;
mod jwt;
mod user;

// Defined beside the listeners (a listener names its middleware), published here.
pub use crate::listener::handshake::{Claims, Handshake, Rejection};
pub use crate::listener::middleware::{BoxFuture, Middleware, MiddlewareRegistration};
pub use crate::send::sockets;
pub use jwt::JwtMiddleware;
pub use user::{ClaimsResolver, ClaimsUser, SocketUser, UserResolver};

pub(crate) use chain::{Authenticated, Chain, RequestOrigin};
pub(crate) use user::ErasedResolver;
