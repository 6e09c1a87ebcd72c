//! Presence: who is on a channel, deduplicated by user across tabs, devices and nodes
//! (`docs/protocol.md`, "Presence").
//!
//! A listener opts in with `#[channel("room.{id}", presence)]` (members, with
//! `presence-join` / `presence-leave` as users come and go) or `presence(counts)`
//! (only `count` and `connections`, for channels too big for a member list).
//!
//! Each node counts its own connections per channel and user ([`LocalPresence`]); that
//! count is the truth about this node. What the cluster knows is derived from it:
//!
//! - one node (the memory backplane): a user's first connection here is their first
//!   anywhere, so the transition itself is the join, delivered at once;
//! - many nodes: the backplane's bridge hands the broker each changed count (absolute,
//!   so resending is harmless), and the broker decides atomically whether it was the
//!   user's first or last connection anywhere, publishing the join or leave on the
//!   channel's topic in the same step, in order with the channel's other messages.
//!   Each node holds its entries under a lease it renews; the entries of a node whose
//!   lease ran out are claimed by a survivor, in one atomic step that also publishes
//!   the leaves, so no two survivors announce the same leave
//!   (`transport/bridge/presence.rs`).

mod local;
mod mode;

pub(crate) use local::{LocalPresence, Transition, Update};
pub use mode::PresenceMode;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::protocol::{self, Frame, events};

/// The origin written in the envelopes of presence packets the broker publishes: no
/// node has this id (node ids are hex), so every node, the one whose connection
/// caused it included, delivers them.
pub(crate) const BROKER_ORIGIN: &str = "presence";

/// One member of a channel, as `presence-response` lists them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member {
    pub(crate) user_id: Arc<str>,
    /// What the application's resolver said about the user when they joined.
    pub(crate) info: Option<Value>,
}

/// A channel's presence at one moment.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Snapshot {
    /// Distinct users.
    pub(crate) count: u64,
    /// Their connections, all nodes together.
    pub(crate) connections: u64,
    /// `None` in counts-only mode.
    pub(crate) members: Option<Vec<Member>>,
}

impl Snapshot {
    /// The data of `presence-response`.
    pub(crate) fn to_json(&self) -> Value {
        let mut data = json!({ "count": self.count, "connections": self.connections });
        if let Some(members) = &self.members {
            let members: Vec<Value> = members
                .iter()
                .map(|m| member_json(&m.user_id, m.info.as_ref()))
                .collect();
            data["members"] = Value::Array(members);
        }
        data
    }
}

/// `{user_id, info?}`: a member in a response, and the data of `presence-join`.
fn member_json(user: &str, info: Option<&Value>) -> Value {
    let mut member = json!({ "user_id": user });
    if let Some(info) = info {
        member["info"] = info.clone();
    }
    member
}

/// The `presence-join` packet for `user` on `channel`.
pub(crate) fn join_frame(
    channel: &str,
    user: &str,
    info: Option<&Value>,
) -> Result<Frame, serde_json::Error> {
    protocol::encode(
        events::PRESENCE_JOIN,
        Some(channel),
        &member_json(user, info),
    )
}

/// The `presence-leave` packet for `user` on `channel`.
pub(crate) fn leave_frame(channel: &str, user: &str) -> Result<Frame, serde_json::Error> {
    protocol::encode(
        events::PRESENCE_LEAVE,
        Some(channel),
        &json!({ "user_id": user }),
    )
}
