//! Presence in the in-process broker: what the Redis scripts (`redis/presence.rs`)
//! keep and decide, as plain maps under the broker's lock (the lock is what the
//! scripts' atomicity is there).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::delivery::Target;
use crate::presence::{self, Member, PresenceMode, Snapshot};
use crate::transport::{Envelope, PresenceUpdate};

/// Every presence channel and node lease of one broker.
#[derive(Default)]
pub(super) struct Book {
    channels: HashMap<Arc<str>, Channel>,
    /// Node → when its lease runs out.
    leases: HashMap<String, Instant>,
    /// Node → the channels it holds counts on.
    held: HashMap<String, HashSet<Arc<str>>>,
}

#[derive(Default)]
struct Channel {
    mode: Option<PresenceMode>,
    /// Node → user → connections.
    nodes: HashMap<String, HashMap<Arc<str>, u64>>,
    /// User → how many nodes hold a connection of theirs, and their info.
    users: HashMap<Arc<str>, (u64, Option<Value>)>,
    connections: u64,
}

/// A packet to publish: topic and payload.
pub(super) type Publication = (String, Vec<u8>);

impl Book {
    /// `UPDATE`: records each count; returns the joins and leaves to publish.
    pub(super) fn update(&mut self, node: &str, batch: &[PresenceUpdate]) -> Vec<Publication> {
        let mut out = Vec::new();
        for u in batch {
            let channel = self.channels.entry(u.channel.clone()).or_default();
            channel.mode = Some(u.mode);
            let counts = channel.nodes.entry(node.to_owned()).or_default();
            let old = counts.get(&u.user).copied().unwrap_or(0);
            if old == u.connections {
                continue;
            }
            if u.connections > 0 {
                counts.insert(u.user.clone(), u.connections);
            } else {
                counts.remove(&u.user);
            }
            let node_empty = counts.is_empty();
            if node_empty {
                channel.nodes.remove(node);
            }
            channel.connections = (channel.connections + u.connections).saturating_sub(old);
            let members = u.mode.lists_members();
            if old == 0 {
                let info = serde_json::from_str(&u.info).ok();
                let holders = channel.users.entry(u.user.clone()).or_insert((0, info));
                holders.0 += 1;
                if holders.0 == 1 && members {
                    out.push((u.topic.clone(), u.join.clone()));
                }
            } else if u.connections == 0 && release(channel, &u.user) && members {
                out.push((u.topic.clone(), u.leave.clone()));
            }
            let held = self.held.entry(node.to_owned()).or_default();
            if node_empty {
                held.remove(&u.channel);
            } else {
                held.insert(u.channel.clone());
            }
        }
        out
    }

    /// `RENEW`: whether `node` still held its lease.
    pub(super) fn renew(&mut self, node: &str, lease: Duration, now: Instant) -> bool {
        self.leases.insert(node.to_owned(), now + lease).is_some()
    }

    /// `CLAIM`: the counts of `only`, or of every node whose lease ran out, go; returns
    /// the leaves of users who had no connection elsewhere.
    pub(super) fn claim(
        &mut self,
        prefix: &str,
        only: Option<&str>,
        now: Instant,
    ) -> Vec<Publication> {
        let gone: Vec<String> = match only {
            Some(node) => vec![node.to_owned()],
            None => self
                .leases
                .iter()
                .filter(|(_, until)| **until <= now)
                .map(|(node, _)| node.clone())
                .collect(),
        };
        let mut out = Vec::new();
        for node in gone {
            self.leases.remove(&node);
            for name in self.held.remove(&node).unwrap_or_default() {
                let Some(channel) = self.channels.get_mut(&name) else {
                    continue;
                };
                let counts = channel.nodes.remove(&node).unwrap_or_default();
                let members = channel.mode.is_some_and(PresenceMode::lists_members);
                for (user, connections) in counts {
                    channel.connections = channel.connections.saturating_sub(connections);
                    if release(channel, &user) && members {
                        out.extend(leave(prefix, &name, &user));
                    }
                }
            }
        }
        out
    }

    /// `READ`.
    pub(super) fn read(&self, channel: &str, mode: PresenceMode) -> Snapshot {
        let Some(channel) = self.channels.get(channel) else {
            return Snapshot {
                members: mode.lists_members().then(Vec::new),
                ..Snapshot::default()
            };
        };
        let members = mode.lists_members().then(|| {
            let mut members: Vec<Member> = channel
                .users
                .iter()
                .map(|(user, (_, info))| Member {
                    user_id: user.clone(),
                    info: info.clone(),
                })
                .collect();
            members.sort_by(|a, b| a.user_id.cmp(&b.user_id));
            members
        });
        Snapshot {
            count: channel.users.len() as u64,
            connections: channel.connections,
            members,
        }
    }
}

/// One node fewer holds `user`; true when that was the last.
fn release(channel: &mut Channel, user: &Arc<str>) -> bool {
    let Some(holders) = channel.users.get_mut(user) else {
        return false;
    };
    holders.0 = holders.0.saturating_sub(1);
    if holders.0 == 0 {
        channel.users.remove(user);
        return true;
    }
    false
}

/// The leave of `user` on `channel`, as the broker publishes it.
fn leave(prefix: &str, channel: &str, user: &str) -> Option<Publication> {
    let envelope = Envelope {
        origin: presence::BROKER_ORIGIN.to_owned(),
        target: Target::channel(channel),
        frame: presence::leave_frame(channel, user).ok()?,
        ask: None,
        at: None,
    };
    Some((format!("{prefix}:ch:{channel}"), envelope.encode()?))
}
