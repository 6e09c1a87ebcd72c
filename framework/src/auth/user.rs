use std::future::Future;
use std::sync::Arc;

use serde::Serialize;

use super::{BoxFuture, Claims, Rejection};
use crate::listener::{ChannelListener, SessionUser, UserType};
use crate::send::{SendError, sockets};

/// A user model that can be sent to: every connection of the user, on all devices.
///
/// Implement `socket_user_id`; the sends come with it and work from anywhere in the
/// application (a request handler, a background task) through the process-wide
/// handle ([`sockets`]).
///
/// ```no_run
/// use switchboard::auth::SocketUser;
///
/// struct Customer { id: u64 }
///
/// impl SocketUser for Customer {
///     fn socket_user_id(&self) -> String {
///         self.id.to_string()
///     }
/// }
///
/// # fn notify(customer: &Customer) -> Result<(), switchboard::SendError> {
/// customer.send_socket_event("order-shipped", &serde_json::json!({"order": 7}))?;
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    note = "implement `switchboard::auth::SocketUser` for `{Self}`: `fn socket_user_id(&self) -> String`"
)]
pub trait SocketUser {
    /// The id connections of this user are grouped by: the `sub` of their tokens.
    fn socket_user_id(&self) -> String;

    /// Sends a direct event to every connection of this user; returns how many
    /// connections on this node accepted it.
    fn send_socket_event<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<usize, SendError> {
        sockets()?.send_to_user(&self.socket_user_id(), event, data)
    }

    /// Sends `event` on `channel` (a channel of listener `L`) to this user's
    /// connections subscribed to it.
    fn send_socket_channel_event<L: ChannelListener, T: Serialize + ?Sized>(
        &self,
        channel: &str,
        event: &str,
        data: &T,
    ) -> Result<usize, SendError> {
        sockets()?.send_to_user_via_channel::<L, T>(&self.socket_user_id(), channel, event, data)
    }
}

/// Turns verified claims into the application's user; may look up storage.
///
/// ```
/// use switchboard::auth::{Claims, Rejection, SocketUser, UserResolver};
///
/// struct Member { id: String, name: String }
/// impl SocketUser for Member {
///     fn socket_user_id(&self) -> String { self.id.clone() }
/// }
///
/// struct Members;
/// impl UserResolver for Members {
///     type User = Member;
///     async fn resolve(&self, claims: &Claims) -> Result<Member, Rejection> {
///         let id = claims.subject().ok_or_else(|| Rejection::unauthorized("missing_claim", "no sub"))?;
///         let name = claims.get("name").and_then(|n| n.as_str()).unwrap_or(&id).to_owned();
///         Ok(Member { id, name })
///     }
/// }
/// ```
pub trait UserResolver: Send + Sync + 'static {
    /// The application's user type; hooks and events receive `&Self::User`.
    type User: SocketUser + Send + Sync + 'static;

    /// Resolves a user, or refuses the handshake.
    fn resolve(&self, claims: &Claims) -> impl Future<Output = Result<Self::User, Rejection>>;
}

/// The default user: the token's `sub` and all its claims.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimsUser {
    /// The `sub` claim.
    pub id: String,
    /// Every claim of the token.
    pub claims: Claims,
}

impl SocketUser for ClaimsUser {
    fn socket_user_id(&self) -> String {
        self.id.clone()
    }
}

/// The default resolver: [`ClaimsUser`] from `sub`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaimsResolver;

impl UserResolver for ClaimsResolver {
    type User = ClaimsUser;

    async fn resolve(&self, claims: &Claims) -> Result<ClaimsUser, Rejection> {
        let id = claims
            .subject()
            .ok_or_else(|| Rejection::unauthorized("missing_claim", "token has no `sub` claim"))?;
        Ok(ClaimsUser {
            id,
            claims: claims.clone(),
        })
    }
}

/// A resolver behind a pointer, producing the erased session user.
pub(crate) trait ErasedResolver: Send + Sync {
    fn resolve<'a>(&'a self, claims: &'a Claims) -> BoxFuture<'a, Result<SessionUser, Rejection>>;

    /// The user type it produces.
    fn user_type(&self) -> UserType;
}

impl<R: UserResolver> ErasedResolver for R {
    fn user_type(&self) -> UserType {
        UserType::of::<R::User>()
    }

    fn resolve<'a>(&'a self, claims: &'a Claims) -> BoxFuture<'a, Result<SessionUser, Rejection>> {
        Box::pin(async move {
            let user = UserResolver::resolve(self, claims).await?;
            Ok(SessionUser {
                id: Arc::from(user.socket_user_id()),
                model: Arc::new(user),
            })
        })
    }
}
