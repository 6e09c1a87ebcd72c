//! The subscription index: who is connected, as which user, on which channels.
//!
//! It maps connection id -> outbox (+ user, channels), user id -> connections and
//! concrete channel -> connections, and is the only place sends are routed through.
//! Entries are added on connect/subscribe and removed on unsubscribe/disconnect, so it
//! is empty again once every connection is gone.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::ids::ConnectionId;
use crate::protocol::Frame;
use crate::session::{Outbox, Undeliverable};

/// Counts of what one node holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Open connections.
    pub connections: usize,
    /// Distinct authenticated users among them.
    pub users: usize,
    /// Concrete channels with at least one subscriber.
    pub channels: usize,
    /// Subscriptions, summed over connections.
    pub subscriptions: usize,
    /// Channel listener actors running (one per active concrete channel).
    pub channel_actors: usize,
}

#[derive(Debug)]
struct Peer {
    outbox: Outbox,
    user: Option<Arc<str>>,
    channels: HashSet<Arc<str>>,
}

#[derive(Debug, Default)]
struct Maps {
    connections: HashMap<ConnectionId, Peer>,
    users: HashMap<Arc<str>, HashSet<ConnectionId>>,
    /// Each subscriber's outbox sits beside its id, so a broadcast walks one map and
    /// hashes nothing per recipient.
    channels: HashMap<Arc<str>, HashMap<ConnectionId, Outbox>>,
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

    pub(crate) fn connect(&self, id: ConnectionId, outbox: Outbox, user: Option<Arc<str>>) {
        let mut maps = self.write();
        if let Some(user) = &user {
            maps.users
                .entry(user.clone())
                .or_default()
                .insert(id.clone());
        }
        let peer = Peer {
            outbox,
            user,
            channels: HashSet::new(),
        };
        maps.connections.insert(id, peer);
    }

    /// Forgets a connection; returns the channels that no longer have a subscriber
    /// here, and its user if that user has no connection left here.
    pub(crate) fn disconnect(&self, id: &ConnectionId) -> (Vec<Arc<str>>, Option<Arc<str>>) {
        let mut maps = self.write();
        let Some(peer) = maps.connections.remove(id) else {
            return (Vec::new(), None);
        };
        let gone_user = peer
            .user
            .filter(|user| remove_member(&mut maps.users, user, id));
        let emptied = peer
            .channels
            .into_iter()
            .filter(|channel| remove_subscriber(&mut maps.channels, channel, id))
            .collect();
        (emptied, gone_user)
    }

    /// Records a subscription. False when the connection is gone.
    pub(crate) fn subscribe(&self, id: &ConnectionId, channel: &Arc<str>) -> bool {
        let mut maps = self.write();
        let Some(peer) = maps.connections.get_mut(id) else {
            return false;
        };
        peer.channels.insert(channel.clone());
        let outbox = peer.outbox.clone();
        maps.channels
            .entry(channel.clone())
            .or_default()
            .insert(id.clone(), outbox);
        true
    }

    /// Removes a subscription; returns whether the channel has no subscriber left here.
    pub(crate) fn unsubscribe(&self, id: &ConnectionId, channel: &str) -> bool {
        let mut maps = self.write();
        if let Some(peer) = maps.connections.get_mut(id) {
            peer.channels.remove(channel);
        }
        remove_subscriber(&mut maps.channels, channel, id)
    }

    pub(crate) fn has_subscribers(&self, channel: &str) -> bool {
        self.read().channels.contains_key(channel)
    }

    pub(crate) fn has_user(&self, user: &str) -> bool {
        self.read().users.contains_key(user)
    }

    /// Asks every connection here to close; they leave the index as they go.
    pub(crate) fn close_all(&self, reason: &actix_ws::CloseReason) {
        for peer in self.read().connections.values() {
            peer.outbox.close(reason.clone());
        }
    }

    /// Subscribers per concrete channel, here.
    pub(crate) fn subscriber_counts(&self) -> std::collections::BTreeMap<String, usize> {
        self.read()
            .channels
            .iter()
            .map(|(channel, ids)| (channel.to_string(), ids.len()))
            .collect()
    }

    /// Open connections here: all, and of `user`.
    pub(crate) fn connection_counts(&self, user: Option<&str>) -> (usize, usize) {
        let maps = self.read();
        let of_user = user.and_then(|u| maps.users.get(u)).map_or(0, HashSet::len);
        (maps.connections.len(), of_user)
    }

    /// Every concrete channel with a subscriber here.
    pub(crate) fn channel_names(&self) -> Vec<Arc<str>> {
        self.read().channels.keys().cloned().collect()
    }

    /// Every user with a connection here.
    pub(crate) fn user_ids(&self) -> Vec<Arc<str>> {
        self.read().users.keys().cloned().collect()
    }

    pub(crate) fn send_to_connection(
        &self,
        id: &str,
        frame: Frame,
    ) -> Result<(), Option<Undeliverable>> {
        let maps = self.read();
        let peer = maps.connections.get(id).ok_or(None)?;
        peer.outbox.push(frame).map_err(Some)
    }

    /// Sends to every connection of `user`; returns how many accepted the frame.
    pub(crate) fn send_to_user(&self, user: &str, frame: &Frame) -> usize {
        let maps = self.read();
        maps.users
            .get(user)
            .map_or(0, |ids| deliver(&maps, ids.iter(), frame, None))
    }

    /// Sends to the connections of `user` that are subscribed to `channel`.
    pub(crate) fn send_to_user_on_channel(
        &self,
        user: &str,
        channel: &str,
        frame: &Frame,
    ) -> usize {
        let maps = self.read();
        let Some(ids) = maps.users.get(user) else {
            return 0;
        };
        ids.iter()
            .filter_map(|id| maps.connections.get(id))
            .filter(|peer| peer.channels.contains(channel))
            .filter(|peer| peer.outbox.push(frame.clone()).is_ok())
            .count()
    }

    /// Sends to every subscriber of `channel` but `except`; returns how many accepted it.
    pub(crate) fn broadcast(&self, channel: &str, frame: &Frame, except: Option<&str>) -> usize {
        let maps = self.read();
        let Some(subscribers) = maps.channels.get(channel) else {
            return 0;
        };
        subscribers
            .iter()
            .filter(|(id, _)| except != Some(id.as_str()))
            .filter(|(_, outbox)| outbox.push(frame.clone()).is_ok())
            .count()
    }

    pub(crate) fn stats(&self) -> Stats {
        let maps = self.read();
        Stats {
            connections: maps.connections.len(),
            users: maps.users.len(),
            channels: maps.channels.len(),
            subscriptions: maps.connections.values().map(|p| p.channels.len()).sum(),
            channel_actors: 0,
        }
    }
}

fn deliver<'a>(
    maps: &Maps,
    ids: impl Iterator<Item = &'a ConnectionId>,
    frame: &Frame,
    except: Option<&str>,
) -> usize {
    ids.filter(|id| except != Some(id.as_str()))
        .filter_map(|id| maps.connections.get(id))
        .filter(|peer| peer.outbox.push(frame.clone()).is_ok())
        .count()
}

/// Removes `id` from the subscribers of `channel`; drops the channel when it empties.
/// Returns whether the channel is gone.
fn remove_subscriber(
    map: &mut HashMap<Arc<str>, HashMap<ConnectionId, Outbox>>,
    channel: &str,
    id: &ConnectionId,
) -> bool {
    let Some(subscribers) = map.get_mut(channel) else {
        return true;
    };
    subscribers.remove(id);
    if subscribers.is_empty() {
        map.remove(channel);
        true
    } else {
        false
    }
}

/// Removes `id` from the set under `key`; drops the set when it empties. Returns
/// whether the key is gone.
fn remove_member<K>(
    map: &mut HashMap<Arc<str>, HashSet<ConnectionId>>,
    key: &K,
    id: &ConnectionId,
) -> bool
where
    K: ?Sized + std::hash::Hash + Eq,
    Arc<str>: std::borrow::Borrow<K>,
{
    let Some(members) = map.get_mut(key) else {
        return true;
    };
    members.remove(id);
    if members.is_empty() {
        map.remove(key);
        true
    } else {
        false
    }
}
