//! The demo's user model.

use serde::Serialize;

/// A signed-in chat user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Stable id, also the `{id}` of the user's private channel `user:chat.{id}`.
    pub id: String,
    /// Display name.
    pub name: String,
}
