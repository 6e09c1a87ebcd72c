//! What macro-generated code refers to, so applications need no `inventory` or other
//! dependency of their own for it to compile. Not a public API.

pub use inventory;

pub use crate::auth::{Middleware, MiddlewareRegistration};

pub use crate::listener::{
    AuthFuture, ChannelEvents, ChannelListener, EventFuture, FromInvocation, IntoAuthorisation,
    IntoEventResult, Invocation, SocketHandler, SocketListener, UserType,
};
pub use crate::registry::{ChannelRegistration, SocketRegistration};

pub use crate::{
    __typescript_channel as typescript_channel, __typescript_handlers as typescript_handlers,
    __typescript_socket as typescript_socket,
};
