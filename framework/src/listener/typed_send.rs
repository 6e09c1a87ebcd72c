//! Sends that name the listener whose channel they use, so a misspelt channel family
//! is caught. They extend [`SocketServer`], which sits below this module.

use serde::Serialize;

use super::ChannelListener;
use crate::send::{SendError, SocketServer};

impl SocketServer {
    /// Sends `event` on `channel` (a channel of listener `L`) to the connections of
    /// `user_id` subscribed to it. Naming the listener catches a misspelt channel family.
    pub fn send_to_user_via_channel<L: ChannelListener, T: Serialize + ?Sized>(
        &self,
        user_id: &str,
        channel: &str,
        event: &str,
        data: &T,
    ) -> Result<usize, SendError> {
        let matches = switchboard_pattern::Pattern::parse(L::PATTERN)
            .is_ok_and(|pattern| pattern.matches(channel).is_some());
        if !matches {
            return Err(SendError::ChannelMismatch {
                channel: channel.to_owned(),
                listener: L::NAME,
                pattern: L::PATTERN,
            });
        }
        self.send_to_user_on_channel(user_id, channel, event, data)
    }
}
