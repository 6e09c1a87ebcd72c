//! The routing table every thread shares: which connections this node holds, on which
//! worker, as which user, subscribed to what.
//!
//! It decides *which workers* a send must reach (a count of subscribers per worker
//! per channel), never touches a queue, and is read once per send, not once per
//! recipient. Entries are added on connect and subscribe and removed on unsubscribe
//! and disconnect, so it is empty again once every connection is gone.

#[cfg(feature = "http-api")]
use std::collections::BTreeMap;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::mpsc::UnboundedSender;

use super::queue::Condition;
use super::worker::Job;
use super::{Except, Target};
use crate::ids::ConnectionId;
use crate::stats::Stats;

/// The connection caps a new connection must fit under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    pub(crate) node: usize,
    pub(crate) user: usize,
}

/// Why a connection was refused: a cap is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CapReached {
    Node(usize),
    User(usize),
}

#[derive(Debug)]
struct Entry {
    worker: usize,
    user: Option<Arc<str>>,
    channels: HashSet<Arc<str>>,
    condition: Arc<Condition>,
}

#[derive(Debug, Default)]
struct Maps {
    connections: HashMap<ConnectionId, Entry>,
    users: HashMap<Arc<str>, HashSet<ConnectionId>>,
    /// Subscribers per worker, by channel.
    channels: HashMap<Arc<str>, Vec<u32>>,
    /// Connections per worker.
    workers: Vec<u32>,
    /// Each worker's inbox, by worker index.
    inboxes: Vec<UnboundedSender<Job>>,
    subscriptions: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Index {
    maps: RwLock<Maps>,
}

impl Index {
    // A panic while holding the lock cannot leave the maps half-updated in a way that
    // matters more than losing every connection, so poisoning is ignored.
    fn read(&self) -> RwLockReadGuard<'_, Maps> {
        self.maps.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Maps> {
        self.maps.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a worker thread; returns its index.
    pub(super) fn add_worker(&self, inbox: UnboundedSender<Job>) -> usize {
        let mut maps = self.write();
        maps.inboxes.push(inbox);
        maps.workers.push(0);
        maps.inboxes.len() - 1
    }

    /// Records a connection if it fits under `caps`: checked and counted under one
    /// lock, so concurrent handshakes cannot overshoot.
    pub(super) fn connect(
        &self,
        id: ConnectionId,
        worker: usize,
        user: Option<Arc<str>>,
        condition: Arc<Condition>,
        caps: Caps,
    ) -> Result<(), CapReached> {
        let mut maps = self.write();
        if maps.connections.len() >= caps.node {
            return Err(CapReached::Node(caps.node));
        }
        if let Some(user) = &user {
            let of_user = maps.users.get(user).map_or(0, HashSet::len);
            if of_user >= caps.user {
                return Err(CapReached::User(caps.user));
            }
            maps.users
                .entry(user.clone())
                .or_default()
                .insert(id.clone());
        }
        maps.workers[worker] += 1;
        let entry = Entry {
            worker,
            user,
            channels: HashSet::new(),
            condition,
        };
        maps.connections.insert(id, entry);
        Ok(())
    }

    /// Forgets a connection; returns the channels that no longer have a subscriber
    /// here, and its user if that user has no connection left here.
    pub(super) fn disconnect(&self, id: &ConnectionId) -> (Vec<Arc<str>>, Option<Arc<str>>) {
        let mut maps = self.write();
        let Some(entry) = maps.connections.remove(id) else {
            return (Vec::new(), None);
        };
        maps.workers[entry.worker] -= 1;
        maps.subscriptions -= entry.channels.len();
        let gone_user = entry.user.filter(|user| {
            let Some(ids) = maps.users.get_mut(user) else {
                return true;
            };
            ids.remove(id);
            let gone = ids.is_empty();
            if gone {
                maps.users.remove(user);
            }
            gone
        });
        let emptied = entry
            .channels
            .into_iter()
            .filter(|channel| remove_subscriber(&mut maps.channels, channel, entry.worker))
            .collect();
        (emptied, gone_user)
    }

    /// Records a subscription. False when the connection is gone or already subscribed.
    pub(super) fn subscribe(&self, id: &ConnectionId, channel: &Arc<str>) -> bool {
        let mut maps = self.write();
        let Some(entry) = maps.connections.get_mut(id) else {
            return false;
        };
        if !entry.channels.insert(channel.clone()) {
            return false;
        }
        let worker = entry.worker;
        let workers = maps.workers.len();
        let counts = maps.channels.entry(channel.clone()).or_default();
        counts.resize(workers.max(counts.len()), 0);
        counts[worker] += 1;
        maps.subscriptions += 1;
        true
    }

    /// Removes a subscription; returns whether the channel has no subscriber left here.
    pub(super) fn unsubscribe(&self, id: &ConnectionId, channel: &str) -> bool {
        let mut maps = self.write();
        let Some(entry) = maps.connections.get_mut(id) else {
            return !maps.channels.contains_key(channel);
        };
        if !entry.channels.remove(channel) {
            return !maps.channels.contains_key(channel);
        }
        let worker = entry.worker;
        maps.subscriptions -= 1;
        remove_subscriber(&mut maps.channels, channel, worker)
    }

    /// Hands `job` to the inbox of every worker with a recipient of `target` but
    /// `here`; returns the recipients this node holds and whether `here` has some.
    pub(super) fn route(
        &self,
        target: &Target,
        here: Option<usize>,
        mut job: impl FnMut() -> Job,
    ) -> (usize, bool) {
        let maps = self.read();
        let mut local = false;
        let mut hand_off = |worker: usize| {
            if Some(worker) == here {
                local = true;
            } else if let Some(inbox) = maps.inboxes.get(worker) {
                let _ = inbox.send(job()); // a worker that has stopped has no connections
            }
        };
        let recipients = match target {
            Target::Channel { name, except } => {
                let Some(counts) = maps.channels.get(name) else {
                    return (0, false);
                };
                for (worker, _) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
                    hand_off(worker);
                }
                let skipped = match except {
                    None => 0,
                    Some(Except::Connection(id)) => maps
                        .connections
                        .get(id)
                        .is_some_and(|entry| entry.channels.contains(name))
                        .into(),
                    Some(Except::User(user)) => maps.users.get(user).map_or(0, |ids| {
                        ids.iter()
                            .filter_map(|id| maps.connections.get(id))
                            .filter(|entry| entry.channels.contains(name))
                            .count()
                    }),
                };
                counts.iter().map(|n| *n as usize).sum::<usize>() - skipped
            }
            Target::User { id, via } => {
                let Some(ids) = maps.users.get(id) else {
                    return (0, false);
                };
                let mut reached: Vec<usize> = Vec::new();
                let mut recipients = 0;
                for entry in ids.iter().filter_map(|id| maps.connections.get(id)) {
                    if via.as_ref().is_some_and(|c| !entry.channels.contains(c)) {
                        continue;
                    }
                    recipients += 1;
                    // One hand-off per worker: it delivers to all the user's connections there.
                    if !reached.contains(&entry.worker) {
                        reached.push(entry.worker);
                        hand_off(entry.worker);
                    }
                }
                recipients
            }
            Target::Connection(id) => match maps.connections.get(id) {
                Some(entry) => {
                    hand_off(entry.worker);
                    1
                }
                None => 0,
            },
            Target::Everyone => {
                for (worker, _) in maps.workers.iter().enumerate().filter(|(_, n)| **n > 0) {
                    hand_off(worker);
                }
                maps.connections.len()
            }
        };
        (recipients, local)
    }

    /// What senders on any thread may know of a connection: `None` when it is not here.
    pub(crate) fn condition(&self, id: &str) -> Option<Arc<Condition>> {
        self.read()
            .connections
            .get(id)
            .map(|entry| entry.condition.clone())
    }

    pub(crate) fn has_subscribers(&self, channel: &str) -> bool {
        self.read().channels.contains_key(channel)
    }

    /// Subscribers of `channel` on this node.
    pub(crate) fn subscribers(&self, channel: &str) -> usize {
        self.read()
            .channels
            .get(channel)
            .map_or(0, |counts| counts.iter().map(|n| *n as usize).sum())
    }

    /// The user of connection `id`: `None` when it is not on this node, `Some(None)`
    /// when it is anonymous.
    pub(crate) fn user_of(&self, id: &str) -> Option<Option<Arc<str>>> {
        self.read()
            .connections
            .get(id)
            .map(|entry| entry.user.clone())
    }

    /// How many connections here a stream publication to `target` reaches: a
    /// channel's subscribers, or a user's connections.
    pub(crate) fn recipients(&self, target: &Target) -> usize {
        match target {
            Target::Channel { name, .. } => self.subscribers(name),
            Target::User { id, .. } => self.read().users.get(id).map_or(0, |ids| ids.len()),
            Target::Connection(id) => {
                usize::from(self.read().connections.contains_key(id.as_str()))
            }
            Target::Everyone => self.read().connections.len(),
        }
    }

    pub(crate) fn has_user(&self, user: &str) -> bool {
        self.read().users.contains_key(user)
    }

    /// The connections of `user` on this node.
    pub(crate) fn connections_of(&self, user: &str) -> Vec<ConnectionId> {
        self.read()
            .users
            .get(user)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Subscribers per concrete channel, here.
    #[cfg(feature = "http-api")]
    pub(crate) fn subscriber_counts(&self) -> BTreeMap<String, usize> {
        self.read()
            .channels
            .iter()
            .map(|(channel, counts)| {
                let n = counts.iter().map(|n| *n as usize).sum();
                (channel.to_string(), n)
            })
            .collect()
    }

    /// Every concrete channel with a subscriber here.
    pub(crate) fn channel_names(&self) -> Vec<Arc<str>> {
        self.read().channels.keys().cloned().collect()
    }

    /// Every user with a connection here.
    pub(crate) fn user_ids(&self) -> Vec<Arc<str>> {
        self.read().users.keys().cloned().collect()
    }

    /// Every worker's inbox.
    pub(super) fn inboxes(&self) -> Vec<UnboundedSender<Job>> {
        self.read().inboxes.clone()
    }

    pub(crate) fn stats(&self) -> Stats {
        let maps = self.read();
        Stats {
            connections: maps.connections.len(),
            users: maps.users.len(),
            channels: maps.channels.len(),
            subscriptions: maps.subscriptions,
            ..Stats::default()
        }
    }
}

/// Counts one subscriber of `channel` on `worker` out; drops the channel when none is
/// left. Returns whether the channel is gone.
fn remove_subscriber(
    channels: &mut HashMap<Arc<str>, Vec<u32>>,
    channel: &str,
    worker: usize,
) -> bool {
    let Some(counts) = channels.get_mut(channel) else {
        return true;
    };
    if let Some(n) = counts.get_mut(worker) {
        *n = n.saturating_sub(1);
    }
    if counts.iter().all(|n| *n == 0) {
        channels.remove(channel);
        true
    } else {
        false
    }
}
