//! Delivery: from "send this to that [`Target`]" to bytes in the right sockets, on one
//! node.
//!
//! ```text
//! deliver(target, frame) -> Index: which workers hold recipients?   (one read lock)
//!                        -> frame encoded once as a WebSocket frame
//!                        -> this thread's worker: pushes to its queues inline
//!                        -> each other worker: one Job in its inbox, its own copy
//!                        -> each worker pushes to its queues (no lock, no shared atomic)
//!                        -> each connection's Writer hands its frames to the socket
//! ```
//!
//! Layout: [`Target`] (who), `frame` (the encoded bytes), `index` (the shared routing
//! table), `worker` (one thread's queues and its fan-out), `queue` and `writer` (one
//! connection's bounded outbound path), `socket` (the kernel's part in aborting a peer
//! that stopped reading). Nothing here knows about sessions, channels or other nodes.

mod frame;
mod index;
mod queue;
mod socket;
mod target;
mod worker;
mod writer;

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_http::ws::CloseReason;

pub(crate) use frame::WireFrame;
pub(crate) use index::{CapReached, Caps, Index};
pub(crate) use socket::{configure_accepted, reset};
pub(crate) use target::{Except, Target};
pub(crate) use writer::Writer;

pub(crate) use queue::Position;
use queue::{Bounds, Queue, Undeliverable};
use worker::{Job, Local};

use crate::config::LimitSettings;
use crate::ids::ConnectionId;
use crate::protocol::Frame;
use crate::stats::Metrics;

/// What gates a connection's user stream (see [`Connected::hold`]): sends to its
/// user that carry a position pass it. No channel can have this name.
pub(crate) const USER_STREAM_GATE: &str = "#user";

/// Why a send to one connection was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotDelivered {
    /// No connection on this node has the id.
    Unknown,
    /// Its queue was full; it is being closed with 4008.
    SlowConsumer,
    /// It is closing.
    Closed,
}

/// One node's delivery layer; cheap to clone, usable from any thread.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Tells this node's per-thread state apart from another node's in the same process.
    id: usize,
    index: Index,
    bounds: Bounds,
    write_timeout: Duration,
    metrics: Arc<Metrics>,
}

impl Delivery {
    pub(crate) fn new(limits: &LimitSettings, metrics: Arc<Metrics>) -> Self {
        static NEXT_ID: AtomicUsize = AtomicUsize::new(0);
        Self {
            shared: Arc::new(Shared {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                index: Index::default(),
                bounds: Bounds::new(limits.outbound_queue, limits.outbound_queue_bytes),
                write_timeout: Duration::from_secs(limits.write_timeout_secs),
                metrics,
            }),
        }
    }

    /// The routing table (counts, names, conditions).
    pub(crate) fn index(&self) -> &Index {
        &self.shared.index
    }

    pub(crate) fn metrics(&self) -> &Arc<Metrics> {
        &self.shared.metrics
    }

    /// How long a socket may accept nothing while frames wait for it.
    pub(crate) fn write_timeout(&self) -> Duration {
        self.shared.write_timeout
    }

    /// Registers a connection served by the calling thread, if it fits under `caps`.
    /// Must run on an actix worker thread (the one that will serve the connection).
    pub(crate) fn connect(
        &self,
        id: ConnectionId,
        user: Option<Arc<str>>,
        caps: Caps,
    ) -> Result<(Connected, Writer), CapReached> {
        let shared = &self.shared;
        let local = Local::here(
            shared.id,
            &shared.index,
            shared.bounds,
            shared.write_timeout,
            &shared.metrics,
        );
        let queue = local.add(id.clone(), user.clone());
        if let Err(reached) =
            shared
                .index
                .connect(id, local.worker, user, queue.condition.clone(), caps)
        {
            local.remove(&queue);
            return Err(reached);
        }
        let writer = Writer::new(queue.clone());
        let connected = Connected {
            delivery: self.clone(),
            local,
            queue,
        };
        Ok((connected, writer))
    }

    /// Sends `frame` to every recipient of `target` on this node; returns how many
    /// there are. Recipients on this thread's worker get it before this returns; other
    /// workers get it through their inbox, in the order this thread sent.
    pub(crate) fn deliver(&self, target: &Target, frame: &Frame) -> usize {
        self.deliver_positioned(target, frame, None)
    }

    /// Like [`Self::deliver`], for a stream's publication at `at`: a subscriber whose
    /// subscribe is reading the stream's history gets it after that (or not at all,
    /// when the history it was sent already held it).
    pub(crate) fn deliver_at(&self, target: &Target, frame: &Frame, at: Position) -> usize {
        self.deliver_positioned(target, frame, Some(at))
    }

    fn deliver_positioned(&self, target: &Target, frame: &Frame, at: Option<Position>) -> usize {
        let here = Local::find(self.shared.id);
        // Framed only when some worker has a recipient (a channel may have none here).
        let mut wire = None;
        let (recipients, local) =
            self.shared
                .index
                .route(target, here.as_ref().map(|l| l.worker), || {
                    let wire = wire.get_or_insert_with(|| WireFrame::text(frame));
                    Job::Deliver(target.clone(), wire.copy_for_another_worker(), at.clone())
                });
        if let (true, Some(here)) = (local, here) {
            let wire = wire.get_or_insert_with(|| WireFrame::text(frame));
            here.deliver(target, wire, at.as_ref());
        }
        recipients
    }

    /// Sends `frame` to connection `id` on this node, or says why it could not.
    pub(crate) fn deliver_to_connection(
        &self,
        id: &ConnectionId,
        frame: &Frame,
    ) -> Result<(), NotDelivered> {
        let condition = self
            .shared
            .index
            .condition(id.as_str())
            .ok_or(NotDelivered::Unknown)?;
        condition.check().map_err(|reason| match reason {
            Undeliverable::SlowConsumer => NotDelivered::SlowConsumer,
            Undeliverable::Closed => NotDelivered::Closed,
        })?;
        self.deliver(&Target::Connection(id.clone()), frame);
        Ok(())
    }

    /// A handle for sending to connection `id` from any thread.
    pub(crate) fn outbox(&self, id: ConnectionId) -> Outbox {
        Outbox {
            delivery: self.clone(),
            id,
        }
    }

    /// Asks every connection to close with `reason` after what is queued for it.
    pub(crate) fn close_all(&self, reason: &CloseReason) {
        let here = Local::find(self.shared.id);
        for (worker, inbox) in self.shared.index.inboxes().into_iter().enumerate() {
            if here.as_ref().is_some_and(|l| l.worker == worker) {
                continue;
            }
            let _ = inbox.send(Job::CloseAll(reason.clone()));
        }
        if let Some(here) = here {
            here.run_job(Job::CloseAll(reason.clone()));
        }
    }
}

/// A connection as the thread serving it sees it: its queue, pushed to directly.
#[derive(Debug)]
pub(crate) struct Connected {
    delivery: Delivery,
    local: Rc<Local>,
    queue: Rc<Queue>,
}

impl Connected {
    /// Queues a packet for this connection.
    pub(crate) fn push(&self, frame: &Frame) -> Result<(), Undeliverable> {
        self.push_wire(&WireFrame::text(frame))
    }

    /// Queues an encoded frame (a pong, a shared heartbeat).
    pub(crate) fn push_wire(&self, frame: &WireFrame) -> Result<(), Undeliverable> {
        let pushed = self.queue.push(&frame.to_local(), self.local.bounds);
        if pushed.is_ok() {
            self.delivery.shared.metrics.packets_out(1);
        }
        pushed
    }

    /// Asks the writer to send what is queued, then a close frame. False when a close
    /// was already asked for.
    pub(crate) fn close(&self, reason: CloseReason) -> bool {
        self.queue.close(reason)
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.queue.is_closing()
    }

    /// The close code the connection ended with; none for one lost or aborted without
    /// a close handshake.
    pub(crate) fn ending(&self) -> Option<u16> {
        self.queue.ending()
    }

    /// Gives the connection up now: what waits is freed and the session stops.
    pub(crate) fn abort(&self) {
        self.queue.abort();
    }

    /// Runs `f` when the connection is aborted for not reading.
    pub(crate) fn on_abort(&self, f: impl FnOnce() + 'static) {
        self.queue.on_abort(f);
    }

    /// Records a subscription here and in the routing table. False when already there.
    pub(crate) fn subscribe(&self, channel: &Arc<str>) -> bool {
        let subscribed = self.delivery.index().subscribe(&self.queue.id, channel);
        if subscribed {
            self.local.subscribe(&self.queue, channel);
        }
        subscribed
    }

    /// Holds back the live publications of stream `channel` (see [`Queue::hold`])
    /// while the subscribe reads its history.
    pub(crate) fn hold(&self, channel: &Arc<str>) {
        self.queue.hold(channel.clone());
    }

    /// Queues what was held back after `sent` and drops what the subscriber was
    /// already sent (see [`Queue::release`]).
    pub(crate) fn release(&self, channel: &Arc<str>, sent: Position) {
        self.queue.release(channel, sent, self.local.bounds);
    }

    /// Forgets what [`Self::hold`] set up (the subscribe was refused).
    pub(crate) fn forget(&self, channel: &str) {
        self.queue.forget(channel);
    }

    /// Removes a subscription; returns whether the channel has no subscriber left on
    /// this node.
    pub(crate) fn unsubscribe(&self, channel: &str) -> bool {
        self.queue.forget(channel);
        self.local.unsubscribe(&self.queue, channel);
        self.delivery.index().unsubscribe(&self.queue.id, channel)
    }

    /// What the session's reader waits on while the queue is more than half full.
    pub(crate) fn room(&self) -> Room {
        Room {
            queue: self.queue.clone(),
            bounds: self.local.bounds,
        }
    }

    /// A handle other threads can send through.
    pub(crate) fn outbox(&self) -> Outbox {
        self.delivery.outbox(self.queue.id.clone())
    }

    /// Forgets the connection; returns the channels left with no subscriber on this
    /// node, and its user if they have no connection left here.
    pub(crate) fn disconnect(&self) -> (Vec<Arc<str>>, Option<Arc<str>>) {
        self.queue.close(crate::protocol::CloseCode::Normal.into());
        self.local.remove(&self.queue);
        self.delivery.index().disconnect(&self.queue.id)
    }
}

/// Room in a connection's queue, as its reader sees it (see [`Queue::poll_room`]).
#[derive(Debug)]
pub(crate) struct Room {
    queue: Rc<Queue>,
    bounds: Bounds,
}

impl Room {
    /// Ready while the queue is at most half full; otherwise wakes `cx` once the writer
    /// has made progress.
    pub(crate) fn poll(&self, cx: &std::task::Context<'_>) -> std::task::Poll<()> {
        self.queue.poll_room(self.bounds, cx)
    }
}

/// Sends to one connection from any thread.
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    delivery: Delivery,
    id: ConnectionId,
}

impl Outbox {
    /// Queues a packet; `Err` when the connection is gone, closing or too slow.
    pub(crate) fn push(&self, frame: &Frame) -> Result<(), Undeliverable> {
        let condition = self
            .delivery
            .index()
            .condition(self.id.as_str())
            .ok_or(Undeliverable::Closed)?;
        condition.check()?;
        self.delivery
            .deliver(&Target::Connection(self.id.clone()), frame);
        Ok(())
    }

    /// The node's counters.
    pub(crate) fn metrics(&self) -> &Metrics {
        self.delivery.metrics()
    }
}
