//! Presence on the send path: a connection joining or leaving a presence channel
//! changes this node's counts; on one node that is the whole story (a user's first
//! connection here is their first anywhere, announced at once), across nodes the
//! backplane hands the counts to the broker, which announces (see `crate::presence`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

use super::SendPath;
use crate::delivery::Target;
use crate::presence::{self, PresenceMode, Snapshot, Transition};

impl SendPath {
    /// A connection of `user` joined presence channel `channel`; `info` is asked for
    /// the user's first connection on this node only.
    pub(crate) fn presence_join(
        &self,
        channel: &Arc<str>,
        mode: PresenceMode,
        user: &Arc<str>,
        info: impl FnOnce() -> Option<Value>,
    ) {
        let mut first_info = None;
        let transition = self.presence.join(channel, mode, user, || {
            first_info = info();
            first_info.clone()
        });
        if transition == Transition::Arrived && self.announces_here(mode) {
            self.announce(
                channel,
                presence::join_frame(channel, user, first_info.as_ref()),
            );
        }
    }

    /// A connection of `user` left presence channel `channel`.
    pub(crate) fn presence_leave(&self, channel: &str, mode: PresenceMode, user: &str) {
        let transition = self.presence.leave(channel, user);
        if transition == Transition::Departed && self.announces_here(mode) {
            self.announce(channel, presence::leave_frame(channel, user));
        }
    }

    /// The channel's presence, every node together; `None` when the broker cannot be
    /// reached now.
    pub(crate) fn presence_of(
        &self,
        channel: Arc<str>,
        mode: PresenceMode,
    ) -> Pin<Box<dyn Future<Output = Option<Snapshot>> + Send>> {
        if self.backplane.spans_nodes() {
            return self.backplane.read_presence(channel, mode);
        }
        let snapshot = self.presence.snapshot(&channel, mode);
        Box::pin(async move { Some(snapshot) })
    }

    /// Joins and leaves are this node's to announce: on one node, for a members channel
    /// (across nodes the broker publishes them, to this node too).
    fn announces_here(&self, mode: PresenceMode) -> bool {
        mode.lists_members() && !self.backplane.spans_nodes()
    }

    fn announce(&self, channel: &str, frame: Result<crate::protocol::Frame, serde_json::Error>) {
        match frame {
            Ok(frame) => {
                self.delivery.deliver(&Target::channel(channel), &frame);
            }
            Err(e) => tracing::error!(error = %e, "a presence packet failed to serialize"),
        }
    }
}
