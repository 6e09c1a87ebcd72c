//! Server-side control of sessions: which session serves which connection, so an
//! instruction for a user's connections or for one connection (re-authorise, subscribe,
//! unsubscribe, disconnect) reaches their actors, here and, through the backplane, on
//! every node.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use actix::{Message, Recipient};

use crate::delivery::Index;
use crate::ids::ConnectionId;
use crate::transport::{Control, Who};

/// A [`Control`] for one session actor.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub(crate) struct ForSession(pub(crate) Control);

/// The session of every open connection on this node.
#[derive(Debug, Default)]
pub(crate) struct Controls {
    sessions: Mutex<HashMap<ConnectionId, Recipient<ForSession>>>,
}

impl Controls {
    /// Called by a session when it starts.
    pub(crate) fn register(&self, id: ConnectionId, session: Recipient<ForSession>) {
        self.lock().insert(id, session);
    }

    /// Called by a session when it stops.
    pub(crate) fn remove(&self, id: &ConnectionId) {
        self.lock().remove(id);
    }

    /// Hands `control` to the sessions it is for on this node; returns how many.
    pub(crate) fn apply(&self, control: &Control, index: &Index) -> usize {
        let ids = match control.who() {
            Who::User(user) => index.connections_of(&user),
            Who::Connection(id) => vec![id],
        };
        let sessions = self.lock();
        ids.iter()
            .filter_map(|id| sessions.get(id))
            .map(|session| session.do_send(ForSession(control.clone())))
            .count()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ConnectionId, Recipient<ForSession>>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
