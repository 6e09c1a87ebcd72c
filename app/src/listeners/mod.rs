//! The demo's listeners.

mod echo;
mod global_chat;
mod private_message;
mod room;
mod room_members;
mod user_chat;

use serde::{Deserialize, Serialize};
use switchboard::typescript::TS;

pub use echo::Echo;
pub use global_chat::GlobalChat;
pub use private_message::{Delivered, PrivateMessage, PrivateMessages, Receipt};
pub use room::Room;
pub use room_members::RoomMembers;
pub use user_chat::UserChat;

use crate::user::User;

/// What a client sends to post a chat message.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(crate = "switchboard::typescript::ts_rs")]
pub struct ChatMessage {
    /// The text.
    pub message: String,
}

/// What subscribers receive for a chat message.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(crate = "switchboard::typescript::ts_rs")]
pub struct Posted<'a> {
    /// The text.
    pub message: &'a str,
    /// Who wrote it: the user's name, or `anonymous`.
    pub from: &'a str,
}

impl<'a> Posted<'a> {
    /// What `user` (anonymous when `None`) posted.
    fn new(message: &'a ChatMessage, user: Option<&'a User>) -> Self {
        Self {
            message: &message.message,
            from: user.map_or("anonymous", |u| u.name.as_str()),
        }
    }
}
