//! One worker thread's share of a node's connections, and the fan-out to them.
//!
//! Every connection is served by one actix worker thread for its whole life. That
//! thread keeps its connections' queues in plain (`Rc`, `RefCell`) maps by channel and
//! by user, so delivering to them takes no lock and touches no atomic shared with
//! another core. A send made on another thread reaches them as one [`Job`] in this
//! worker's inbox per send, however many recipients it has here; the worker's task
//! takes jobs in order, which keeps each sender's order.
//!
//! The same task sweeps its connections on a tick and aborts those whose socket has
//! accepted nothing for `limits.write_timeout_secs` while frames waited.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_http::ws::CloseReason;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use super::Target;
use super::USER_STREAM_GATE;
use super::frame::{LocalFrame, WireFrame};
use super::index::Index;
use super::queue::{Bounds, Position, Queue};
use crate::ids::ConnectionId;
use crate::stats::Metrics;

/// What one worker is asked to do by another thread.
#[derive(Debug)]
pub(crate) enum Job {
    /// Deliver a frame (this worker's own copy) to its recipients here.
    /// A send, and the publication's stream position when it has one.
    Deliver(Target, WireFrame, Option<Position>),
    /// Close every connection (drain).
    CloseAll(CloseReason),
}

/// Jobs taken from the inbox per wake: enough to amortise the wake, few enough to let
/// the thread's connections write in between.
const JOBS_PER_WAKE: usize = 64;

thread_local! {
    /// This thread's share of each node (a process may run several), by delivery id.
    static HERE: RefCell<Vec<(usize, Rc<Local>)>> = const { RefCell::new(Vec::new()) };
}

type Members = HashMap<u64, Rc<Queue>>;

/// One worker thread's connections of one node.
#[derive(Debug)]
pub(crate) struct Local {
    pub(crate) worker: usize,
    pub(super) bounds: Bounds,
    metrics: Arc<Metrics>,
    next_key: Cell<u64>,
    connections: RefCell<HashMap<ConnectionId, Rc<Queue>>>,
    channels: RefCell<HashMap<Arc<str>, Members>>,
    users: RefCell<HashMap<Arc<str>, Members>>,
}

impl Local {
    /// This thread's share of delivery `id`, if it serves any connection of it.
    pub(super) fn find(id: usize) -> Option<Rc<Local>> {
        HERE.with(|here| {
            here.borrow()
                .iter()
                .find(|(of, _)| *of == id)
                .map(|(_, local)| local.clone())
        })
    }

    /// This thread's share of delivery `id`, registered with `index` and its task
    /// started on first use. Must run on an actix worker (a tokio `LocalSet`).
    pub(super) fn here(
        id: usize,
        index: &Index,
        bounds: Bounds,
        write_timeout: Duration,
        metrics: &Arc<Metrics>,
    ) -> Rc<Local> {
        if let Some(local) = Self::find(id) {
            return local;
        }
        let (inbox, jobs) = unbounded_channel();
        let local = Rc::new(Local {
            worker: index.add_worker(inbox),
            bounds,
            metrics: metrics.clone(),
            next_key: Cell::new(0),
            connections: RefCell::default(),
            channels: RefCell::default(),
            users: RefCell::default(),
        });
        HERE.with(|here| here.borrow_mut().push((id, local.clone())));
        tokio::task::spawn_local(run(id, local.clone(), jobs, write_timeout));
        local
    }

    /// A new queue for connection `id` of `user`.
    pub(super) fn add(&self, id: ConnectionId, user: Option<Arc<str>>) -> Rc<Queue> {
        let key = self.next_key.get();
        self.next_key.set(key + 1);
        let queue = Rc::new(Queue::new(key, id.clone(), user));
        if let Some(user) = &queue.user {
            let mut users = self.users.borrow_mut();
            users
                .entry(user.clone())
                .or_default()
                .insert(key, queue.clone());
        }
        self.connections.borrow_mut().insert(id, queue.clone());
        queue
    }

    pub(super) fn remove(&self, queue: &Queue) {
        self.connections.borrow_mut().remove(&queue.id);
        if let Some(user) = &queue.user {
            remove_member(&mut self.users.borrow_mut(), user, queue.key);
        }
        let mut channels = self.channels.borrow_mut();
        for channel in queue.channels.borrow_mut().drain() {
            remove_member(&mut channels, &channel, queue.key);
        }
    }

    pub(super) fn subscribe(&self, queue: &Rc<Queue>, channel: &Arc<str>) {
        if queue.channels.borrow_mut().insert(channel.clone()) {
            self.channels
                .borrow_mut()
                .entry(channel.clone())
                .or_default()
                .insert(queue.key, queue.clone());
        }
    }

    pub(super) fn unsubscribe(&self, queue: &Queue, channel: &str) {
        if queue.channels.borrow_mut().remove(channel) {
            remove_member(&mut self.channels.borrow_mut(), channel, queue.key);
        }
    }

    /// Pushes `frame` to every recipient of `target` on this worker; returns how many
    /// accepted it.
    pub(super) fn deliver(
        &self,
        target: &Target,
        frame: &WireFrame,
        at: Option<&Position>,
    ) -> usize {
        let frame = &frame.to_local();
        let bounds = self.bounds;
        let accepted = match target {
            Target::Channel { name, except } => self.channels.borrow().get(name).map_or(0, |m| {
                let recipients = m.values().filter(|q| {
                    !except
                        .as_ref()
                        .is_some_and(|e| e.excludes(&q.id, q.user.as_ref()))
                });
                match at {
                    None => recipients.filter(|q| q.push(frame, bounds).is_ok()).count(),
                    Some(at) => recipients
                        .filter(|q| q.push_at(frame, bounds, name, at).is_ok())
                        .count(),
                }
            }),
            Target::User { id, via } => self.users.borrow().get(id).map_or(0, |m| match at {
                None => push_all(m.values(), frame, bounds, |q| {
                    via.as_ref().is_none_or(|c| q.channels.borrow().contains(c))
                }),
                Some(at) => m
                    .values()
                    .filter(|q| q.push_at(frame, bounds, USER_STREAM_GATE, at).is_ok())
                    .count(),
            }),
            Target::Connection(id) => self
                .connections
                .borrow()
                .get(id)
                .map_or(0, |q| usize::from(q.push(frame, bounds).is_ok())),
            Target::Everyone => {
                push_all(self.connections.borrow().values(), frame, bounds, |_| true)
            }
        };
        if accepted > 0 {
            self.metrics.packets_out(accepted);
        }
        accepted
    }

    pub(super) fn run_job(&self, job: Job) {
        match job {
            Job::Deliver(target, frame, at) => {
                self.deliver(&target, &frame, at.as_ref());
            }
            Job::CloseAll(reason) => {
                for queue in self.connections.borrow().values() {
                    queue.close(reason.clone());
                }
            }
        }
    }

    /// Aborts every connection that made no progress for `timeout` with frames waiting.
    fn sweep(&self, timeout: Duration) {
        let now = Instant::now();
        let stalled: Vec<Rc<Queue>> = self
            .connections
            .borrow()
            .values()
            .filter(|queue| queue.stalled(now, timeout))
            .cloned()
            .collect();
        for queue in stalled {
            tracing::debug!(connection = %queue.id, "socket accepted nothing within the write timeout: aborting");
            self.metrics.write_timeout();
            queue.abort();
        }
    }
}

fn push_all<'a>(
    queues: impl Iterator<Item = &'a Rc<Queue>>,
    frame: &LocalFrame,
    bounds: Bounds,
    wanted: impl Fn(&Queue) -> bool,
) -> usize {
    queues
        .filter(|queue| wanted(queue))
        .filter(|queue| queue.push(frame, bounds).is_ok())
        .count()
}

fn remove_member(map: &mut HashMap<Arc<str>, Members>, name: &str, key: u64) {
    if let Some(members) = map.get_mut(name) {
        members.remove(&key);
        if members.is_empty() {
            map.remove(name);
        }
    }
}

/// How often a worker looks for stalled connections: often enough that an abort comes
/// within a fraction of the timeout after it, rarely enough to cost nothing.
fn sweep_period(timeout: Duration) -> Duration {
    (timeout / 4).clamp(Duration::from_millis(100), Duration::from_secs(1))
}

/// The worker's task: jobs from other threads, and the sweep. Ends when the node is
/// gone (every inbox sender dropped).
async fn run(id: usize, local: Rc<Local>, mut jobs: UnboundedReceiver<Job>, timeout: Duration) {
    let mut sweep = tokio::time::interval(sweep_period(timeout));
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut batch = Vec::with_capacity(JOBS_PER_WAKE);
    loop {
        tokio::select! {
            received = jobs.recv_many(&mut batch, JOBS_PER_WAKE) => {
                if received == 0 {
                    break;
                }
                for job in batch.drain(..) {
                    local.run_job(job);
                }
            }
            _ = sweep.tick() => local.sweep(timeout),
        }
    }
    HERE.with(|here| here.borrow_mut().retain(|(of, _)| *of != id));
}
