//! This node's side of presence: its connections per channel and user. It is the truth
//! about this node; the broker's view is rebuilt from it whenever in doubt (a reconnect,
//! a lost lease), which is why what it hands over are absolute counts, not deltas.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;
use tokio::sync::Notify;

use super::{Member, PresenceMode, Snapshot};

/// What one connection joining or leaving did to its user's presence on this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    /// The user's first connection here on this channel.
    Arrived,
    /// The user's last connection here left.
    Departed,
    /// The user already had (or still has) another connection here.
    Unchanged,
}

/// A user's connection count on one channel of this node, for the broker.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Update {
    pub(crate) channel: Arc<str>,
    pub(crate) user: Arc<str>,
    pub(crate) mode: PresenceMode,
    /// 0 once the user's last connection here left.
    pub(crate) connections: u64,
    pub(crate) info: Option<Value>,
}

/// Connections per channel and user on this node, and which counts the broker has
/// not been told yet. Shared by the sessions (which change it) and the backplane's
/// bridge (which hands the changes on).
#[derive(Debug, Default)]
pub(crate) struct LocalPresence {
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct State {
    channels: HashMap<Arc<str>, Channel>,
    /// Counts changed since the bridge last took them, with the channel's mode (the
    /// channel may be gone from `channels` by then).
    dirty: HashMap<(Arc<str>, Arc<str>), PresenceMode>,
}

#[derive(Debug)]
struct Channel {
    mode: PresenceMode,
    connections: u64,
    users: HashMap<Arc<str>, Entry>,
}

#[derive(Debug)]
struct Entry {
    connections: u64,
    info: Option<Value>,
}

impl LocalPresence {
    /// A connection of `user` joined `channel`; `info` is asked only for the user's
    /// first connection here.
    pub(crate) fn join(
        &self,
        channel: &Arc<str>,
        mode: PresenceMode,
        user: &Arc<str>,
        info: impl FnOnce() -> Option<Value>,
    ) -> Transition {
        let mut state = self.lock();
        let entry = state
            .channels
            .entry(channel.clone())
            .or_insert_with(|| Channel {
                mode,
                connections: 0,
                users: HashMap::new(),
            });
        entry.connections += 1;
        let transition = match entry.users.get_mut(user) {
            Some(existing) => {
                existing.connections += 1;
                Transition::Unchanged
            }
            None => {
                let info = if mode.lists_members() { info() } else { None };
                entry.users.insert(
                    user.clone(),
                    Entry {
                        connections: 1,
                        info,
                    },
                );
                Transition::Arrived
            }
        };
        state.dirty.insert((channel.clone(), user.clone()), mode);
        drop(state);
        self.changed.notify_one();
        transition
    }

    /// A connection of `user` left `channel` (one that [`join`](Self::join)ed it).
    pub(crate) fn leave(&self, channel: &str, user: &str) -> Transition {
        let mut state = self.lock();
        let Some(entry) = state.channels.get_mut(channel) else {
            return Transition::Unchanged;
        };
        let mode = entry.mode;
        let Some(member) = entry.users.get_mut(user) else {
            return Transition::Unchanged;
        };
        member.connections -= 1;
        entry.connections -= 1;
        let transition = if member.connections == 0 {
            entry.users.remove(user);
            Transition::Departed
        } else {
            Transition::Unchanged
        };
        if entry.users.is_empty() {
            state.channels.remove(channel);
        }
        state.dirty.insert((channel.into(), user.into()), mode);
        drop(state);
        self.changed.notify_one();
        transition
    }

    /// Resolves once a count changed since the last call (at once when one did).
    pub(crate) async fn changed(&self) {
        self.changed.notified().await;
    }

    /// The counts changed since the last call, as they are now.
    pub(crate) fn take_changes(&self) -> Vec<Update> {
        let mut state = self.lock();
        let dirty = std::mem::take(&mut state.dirty);
        dirty
            .into_iter()
            .map(|((channel, user), mode)| state.update(channel, user, mode))
            .collect()
    }

    /// Changes the broker did not take (it failed): handed over again next time,
    /// unless a newer change of the same count came meanwhile (it is dirty already).
    pub(crate) fn give_back(&self, updates: Vec<Update>) {
        let mut state = self.lock();
        for update in updates {
            state
                .dirty
                .insert((update.channel, update.user), update.mode);
        }
    }

    /// Every count is to be handed over again: the broker lost them (it restarted, or
    /// this node's lease ran out and another node claimed its entries).
    pub(crate) fn mark_all(&self) {
        let mut state = self.lock();
        let all: Vec<_> = state
            .channels
            .iter()
            .flat_map(|(channel, entry)| {
                entry
                    .users
                    .keys()
                    .map(move |user| ((channel.clone(), user.clone()), entry.mode))
            })
            .collect();
        state.dirty.extend(all);
        drop(state);
        self.changed.notify_one();
    }

    /// The channel's presence on this node alone (all there is on one node).
    pub(crate) fn snapshot(&self, channel: &str, mode: PresenceMode) -> Snapshot {
        let state = self.lock();
        let Some(entry) = state.channels.get(channel) else {
            return Snapshot {
                members: mode.lists_members().then(Vec::new),
                ..Snapshot::default()
            };
        };
        let members = mode.lists_members().then(|| {
            let mut members: Vec<Member> = entry
                .users
                .iter()
                .map(|(user, e)| Member {
                    user_id: user.clone(),
                    info: e.info.clone(),
                })
                .collect();
            members.sort_by(|a, b| a.user_id.cmp(&b.user_id));
            members
        });
        Snapshot {
            count: entry.users.len() as u64,
            connections: entry.connections,
            members,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change under the lock is one step: a panic elsewhere leaves it whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn update(&self, channel: Arc<str>, user: Arc<str>, mode: PresenceMode) -> Update {
        let entry = self.channels.get(&channel).and_then(|c| c.users.get(&user));
        Update {
            connections: entry.map_or(0, |e| e.connections),
            info: entry.and_then(|e| e.info.clone()),
            channel,
            user,
            mode,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> (Arc<str>, Arc<str>, Arc<str>) {
        ("room.1".into(), "alice".into(), "bob".into())
    }

    #[test]
    fn a_user_arrives_with_the_first_connection_and_departs_with_the_last() {
        let presence = LocalPresence::default();
        let (room, alice, bob) = names();
        let info = || Some(json!({"name": "Alice"}));
        let members = PresenceMode::Members;
        assert_eq!(
            presence.join(&room, members, &alice, info),
            Transition::Arrived
        );
        assert_eq!(
            presence.join(&room, members, &alice, || panic!("asked once")),
            Transition::Unchanged
        );
        assert_eq!(
            presence.join(&room, members, &bob, || None),
            Transition::Arrived
        );
        let snapshot = presence.snapshot(&room, members);
        assert_eq!((snapshot.count, snapshot.connections), (2, 3));
        assert_eq!(
            snapshot.to_json()["members"],
            json!([{"user_id": "alice", "info": {"name": "Alice"}}, {"user_id": "bob"}])
        );
        assert_eq!(presence.leave(&room, &alice), Transition::Unchanged);
        assert_eq!(presence.leave(&room, &alice), Transition::Departed);
        assert_eq!(presence.leave(&room, &alice), Transition::Unchanged);
        assert_eq!(presence.leave(&room, &bob), Transition::Departed);
        assert_eq!(
            presence.snapshot(&room, members),
            Snapshot {
                members: Some(Vec::new()),
                ..Snapshot::default()
            }
        );
    }

    #[test]
    fn changes_are_handed_over_as_absolute_counts_coalesced_per_user() {
        let presence = LocalPresence::default();
        let (room, alice, bob) = names();
        let counts = PresenceMode::Counts;
        presence.join(&room, counts, &alice, || panic!("no info in counts mode"));
        presence.join(&room, counts, &alice, || None);
        presence.join(&room, counts, &bob, || None);
        presence.leave(&room, &bob);
        let mut changes = presence.take_changes();
        changes.sort_by(|a, b| a.user.cmp(&b.user));
        let counts_of: Vec<_> = changes.iter().map(|u| (&*u.user, u.connections)).collect();
        assert_eq!(counts_of, [("alice", 2), ("bob", 0)]);
        assert!(presence.take_changes().is_empty());

        presence.give_back(changes);
        assert_eq!(presence.take_changes().len(), 2);
        presence.mark_all();
        let again = presence.take_changes();
        assert_eq!(again.len(), 1, "only who is here now");
        assert_eq!(again[0].connections, 2);
        assert_eq!(presence.snapshot(&room, counts).members, None);
    }
}
