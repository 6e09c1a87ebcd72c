use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use actix::Addr;

use super::actor::{ChannelActor, Retire};
use crate::auth::Middleware;
use crate::delivery::Index;
use crate::registry::ChannelRegistration;
use crate::stats::Metrics;

/// The live channel actors of this node, by concrete channel name.
pub(crate) struct Channels {
    live: Mutex<HashMap<Arc<str>, Addr<ChannelActor>>>,
    /// The global middleware every channel actor runs on subscribe.
    global: Arc<[Arc<dyn Middleware>]>,
    metrics: Arc<Metrics>,
    handler_timeout: std::time::Duration,
    /// Messages one actor's mailbox holds (`limits.channel_queue`).
    queue: usize,
}

impl std::fmt::Debug for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channels")
            .field("live", &self.len())
            .finish_non_exhaustive()
    }
}

impl Channels {
    pub(crate) fn new(
        global: Arc<[Arc<dyn Middleware>]>,
        metrics: Arc<Metrics>,
        handler_timeout: std::time::Duration,
        queue: usize,
    ) -> Self {
        Self {
            live: Mutex::default(),
            global,
            metrics,
            handler_timeout,
            queue,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Arc<str>, Addr<ChannelActor>>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The actor of `name`, started on the calling thread's arbiter if there is none.
    pub(crate) fn actor(
        &self,
        name: &str,
        registration: &'static ChannelRegistration,
    ) -> Addr<ChannelActor> {
        let mut live = self.lock();
        if let Some(addr) = live.get(name).filter(|addr| addr.connected()) {
            return addr.clone();
        }
        let name: Arc<str> = name.into();
        let addr = ChannelActor::new(
            name.clone(),
            registration,
            self.global.clone(),
            self.metrics.clone(),
            self.handler_timeout,
        )
        .start_with_mailbox(self.queue);
        live.insert(name, addr.clone());
        addr
    }

    /// Retires the actor of a channel no local connection subscribes to any more.
    /// The index is checked under this lock, so a subscriber that arrived meanwhile
    /// keeps the actor alive.
    pub(crate) fn retire_if_idle(&self, name: &str, index: &Index) {
        let mut live = self.lock();
        if index.has_subscribers(name) {
            return;
        }
        if let Some(addr) = live.remove(name) {
            addr.do_send(Retire);
        }
    }

    /// How many channel actors are live.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}
