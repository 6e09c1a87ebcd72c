//! The demo's user model and how tokens become users.

use serde::Serialize;
use switchboard::auth::{Claims, Rejection, SocketUser, UserResolver};

/// A signed-in chat user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Stable id, also the `{id}` of the user's private channel `user:chat.{id}`.
    pub id: String,
    /// Display name.
    pub name: String,
}

impl SocketUser for User {
    fn socket_user_id(&self) -> String {
        self.id.clone()
    }
}

/// The user a token names: `sub` is the id, `name` the display name (`sub` without it).
/// Shared by the socket ([`Users`]) and the demo's HTTP routes.
pub fn user_from_claims(claims: &Claims) -> Result<User, Rejection> {
    let id = claims
        .subject()
        .ok_or_else(|| Rejection::unauthorized("missing_claim", "token has no `sub` claim"))?;
    let name = claims
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or(&id)
        .to_owned();
    Ok(User { id, name })
}

/// Users come straight from the token. A real application would look the user up in
/// its database here.
#[derive(Debug, Clone, Copy, Default)]
pub struct Users;

impl UserResolver for Users {
    type User = User;

    async fn resolve(&self, claims: &Claims) -> Result<User, Rejection> {
        user_from_claims(claims)
    }
}
