//! What every transport needs: the [`Backplane`] handle the node sends through, and the
//! bridge task that keeps a [`Transport`] connected, its subscriptions equal to this
//! node's interest, its publishes batched, and what arrives delivered.
//!
//! The bridge runs on a thread of its own (a single-threaded runtime, so it depends on
//! no actix arbiter). Sessions and handlers never wait on it: publishes go through a
//! bounded queue, and subscription changes are hints that it reconciles with the index.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

mod presence;
mod streams;

use super::backoff::Backoff;
use super::control::{Control, Decoded};
use super::envelope::Receipt;
use super::topic::Names;
use super::{
    Arrival, Arrivals, ControlSink, Envelope, Link, PresenceLease, Topic, Transport, TransportError,
};
use crate::config::{BackplaneSettings, ConfigError};
use crate::delivery::{Delivery, NotDelivered, Target};
use crate::ids::{ConnectionId, NodeId};
use crate::presence::{PresenceMode, Snapshot};
use crate::protocol::Frame;
use crate::stats::BackplaneStats;
use crate::stream::{HistorySpec, Position, Recovery, Since};

use presence::PresenceRead;
use streams::ReadRequest;

/// Longest wait for the broker to answer one command before the link counts as lost.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(3);
/// Most publishes sent in one batch.
const PUBLISH_BATCH: usize = 256;
/// Topics per subscribe command when restoring subscriptions after a reconnect.
const RESUBSCRIBE_CHUNK: usize = 1000;
/// Longest wait for the node holding a connection to answer an [`Backplane::ask`].
const ASK_TIMEOUT: Duration = Duration::from_secs(2);

/// Resolves once the backplane has made a topic subscription match the index: `true`
/// when the broker confirmed it (or no broker is needed), `false` when it cannot now.
/// The session answers a subscribe after it, so a client told "subscribed" already
/// receives from every node, and one that could not be told so is refused.
pub(crate) type Synced = Pin<Box<dyn Future<Output = bool> + Send>>;

/// What `close` resolves to: the backplane has left.
pub(crate) type Closed = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What became of a send to a connection on another node ([`Backplane::ask`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The node holding the connection answered: delivered, or why not.
    Receipt(Result<(), NotDelivered>),
    /// The broker had no subscriber for that node: it is gone, so is the connection.
    NoNode,
    /// No answer in time: the broker or that node is unreachable, or too busy.
    Unanswered,
}

/// What [`Backplane::ask`] resolves to.
pub(crate) type Asked = Pin<Box<dyn Future<Output = Answer> + Send>>;

/// Sends waiting for their receipt, by number.
#[derive(Debug, Default)]
struct Asks {
    next: AtomicU64,
    waiting: Mutex<HashMap<u64, oneshot::Sender<Answer>>>,
}

impl Asks {
    fn wait(&self) -> (u64, oneshot::Receiver<Answer>) {
        let ask = self.next.fetch_add(1, Ordering::Relaxed);
        let (answer, answered) = oneshot::channel();
        self.lock().insert(ask, answer);
        (ask, answered)
    }

    /// Resolves `ask`; dropping it unanswered (the default) makes the asker see
    /// [`Answer::Unanswered`] at once.
    fn answer(&self, ask: u64, answer: Option<Answer>) {
        if let (Some(waiting), Some(answer)) = (self.lock().remove(&ask), answer) {
            let _ = waiting.send(answer);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Answer>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug, Default)]
struct Counters {
    /// Bytes in the publish queue (the packets' JSON), bounded by `publish_queue_bytes`.
    queued_bytes: std::sync::atomic::AtomicUsize,
    connected: AtomicBool,
    published: AtomicU64,
    publish_failed: AtomicU64,
    received: AtomicU64,
    connects: AtomicU64,
    subscriptions: AtomicU64,
}

fn add(counter: &AtomicU64, n: usize) {
    counter.fetch_add(n as u64, Ordering::Relaxed);
}

struct Outgoing {
    topic: Topic,
    message: Message,
}

/// What one publish carries.
enum Message {
    /// A send, already delivered on this node.
    Send(Envelope),
    /// A publication on a stream: positioned by the broker, then delivered on every
    /// node that has subscribers, this one included.
    Stream(Envelope, HistorySpec),
    /// An instruction for the sessions it names, and the ask waiting for its receipt.
    Control(Control, Option<u64>),
}

impl Outgoing {
    /// The bytes to publish; `None` when a header would hold a newline.
    fn encode(&self, origin: &str) -> Option<Vec<u8>> {
        match &self.message {
            Message::Send(envelope) => envelope.encode(),
            Message::Stream(envelope, _) => envelope.encode_rest(),
            Message::Control(control, ask) => control.encode(origin, *ask),
        }
    }

    /// The send's ask, when it waits for a receipt.
    fn ask(&self) -> Option<u64> {
        match &self.message {
            Message::Send(envelope) => envelope.ask,
            Message::Control(_, ask) => *ask,
            Message::Stream(..) => None,
        }
    }

    /// Bytes counted against `publish_queue_bytes`.
    fn size(&self) -> usize {
        match &self.message {
            Message::Send(envelope) | Message::Stream(envelope, _) => envelope.frame.as_str().len(),
            Message::Control(..) => 0,
        }
    }
}

struct SyncRequest {
    topic: Topic,
    /// `true` once the broker matches the index for `topic`.
    done: oneshot::Sender<bool>,
}

/// Subscription changes taken together: one command per direction, however many.
const SYNC_BATCH: usize = 1000;

/// How this node reaches the others; with the in-memory default, it reaches none.
#[derive(Debug)]
pub(crate) struct Backplane {
    kind: &'static str,
    remote: Option<Remote>,
}

#[derive(Debug)]
struct Remote {
    node: NodeId,
    queue_bytes: usize,
    publishes: mpsc::Sender<Outgoing>,
    syncs: mpsc::UnboundedSender<SyncRequest>,
    reads: mpsc::UnboundedSender<ReadRequest>,
    presence_reads: mpsc::UnboundedSender<PresenceRead>,
    counters: Arc<Counters>,
    asks: Arc<Asks>,
    /// Asks the bridge to flush and leave; it answers on the enclosed sender.
    stop: Mutex<Option<oneshot::Sender<oneshot::Sender<()>>>>,
}

impl Backplane {
    /// One node: local delivery is all there is.
    pub(crate) fn memory() -> Self {
        Self {
            kind: "memory",
            remote: None,
        }
    }

    /// Starts the bridge over `transport`; the first connection is made in the
    /// background, so a node starts (and serves locally) even while the broker is down.
    pub(crate) fn start<T: Transport>(
        transport: T,
        settings: &BackplaneSettings,
        node: NodeId,
        delivery: Delivery,
        controls: ControlSink,
        presence: PresenceLease,
    ) -> Result<Self, ConfigError> {
        let (publishes, publish_rx) = mpsc::channel(settings.publish_queue);
        let (presence_reads, presence_read_rx) = mpsc::unbounded_channel();
        let (syncs, sync_rx) = mpsc::unbounded_channel();
        let (reads, read_rx) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        let asks = Arc::new(Asks::default());
        let (stop, stop_rx) = oneshot::channel();
        let bridge = Bridge {
            transport,
            stop: stop_rx,
            names: Names::new(&settings.prefix),
            node: node.clone(),
            delivery,
            controls,
            publishes: publish_rx,
            syncs: sync_rx,
            reads: read_rx,
            counters: counters.clone(),
            asks: asks.clone(),
            subscribed: HashSet::new(),
            receipts: Vec::new(),
            positions: HashMap::new(),
            presence,
            presence_reads: presence_read_rx,
        };
        std::thread::Builder::new()
            .name(format!("switchboard-{}", T::KIND))
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(bridge.run()),
                    Err(e) => tracing::error!(error = %e, "cannot start the backplane runtime"),
                }
            })
            .map_err(|e| {
                ConfigError::setting(
                    "backplane.kind",
                    format!("cannot start the backplane thread: {e}"),
                )
            })?;
        Ok(Self {
            kind: T::KIND,
            remote: Some(Remote {
                node,
                queue_bytes: settings.publish_queue_bytes,
                publishes,
                syncs,
                reads,
                presence_reads,
                counters,
                asks,
                stop: Mutex::new(Some(stop)),
            }),
        })
    }

    /// Hands a send (already delivered here) to the other nodes; never waits.
    pub(crate) fn publish(&self, target: &Target, frame: Frame) {
        if let Some(remote) = &self.remote {
            remote.enqueue(target, frame, None);
        }
    }

    /// Hands a publication on stream `target` to the broker, which positions it and
    /// publishes it to every node with subscribers, this one included (delivery here
    /// waits for that, so every node delivers in the broker's order); never waits.
    pub(crate) fn publish_stream(&self, target: &Target, frame: Frame, spec: HistorySpec) {
        if let Some(remote) = &self.remote {
            remote.enqueue_with(target, frame, |envelope| Message::Stream(envelope, spec));
        }
    }

    /// Reads the position of the stream on `topic` (a channel's or a user's) and, for
    /// a `since`, what followed it; `None` when the broker cannot be reached now.
    pub(crate) fn read_stream(
        &self,
        topic: Topic,
        spec: HistorySpec,
        since: Option<Since>,
    ) -> Pin<Box<dyn Future<Output = Option<Recovery>> + Send>> {
        let Some(remote) = &self.remote else {
            return Box::pin(async { None });
        };
        let (reply, read) = oneshot::channel();
        let _ = remote.reads.send(ReadRequest {
            topic,
            spec,
            since,
            reply,
        });
        Box::pin(async move { read.await.ok().flatten() })
    }

    /// A presence channel as every node sees it together; `None` when the broker
    /// cannot be reached now (or there is no broker: one node reads its own counts).
    pub(crate) fn read_presence(
        &self,
        channel: Arc<str>,
        mode: PresenceMode,
    ) -> Pin<Box<dyn Future<Output = Option<Snapshot>> + Send>> {
        let Some(remote) = &self.remote else {
            return Box::pin(async { None });
        };
        let (reply, read) = oneshot::channel();
        let _ = remote.presence_reads.send(PresenceRead {
            channel,
            mode,
            reply,
        });
        Box::pin(async move { read.await.ok().flatten() })
    }

    /// Hands `control` to the other nodes' sessions on `topic`; never waits. The
    /// caller applies it to this node's own sessions.
    pub(crate) fn control(&self, topic: Topic, control: Control) {
        let Some(remote) = &self.remote else { return };
        let outgoing = Outgoing {
            topic,
            message: Message::Control(control, None),
        };
        if remote.publishes.try_send(outgoing).is_err() {
            add(&remote.counters.publish_failed, 1);
        }
    }

    /// Hands `control` to the other nodes' sessions on `topic` and resolves with the
    /// first answer: a node applied it (`Receipt(Ok)`), or had none of its sessions
    /// (`Receipt(Err(Unknown))`), or no node listens on `topic` (`NoNode`), or none
    /// answered within [`ASK_TIMEOUT`].
    pub(crate) fn ask_control(&self, topic: Topic, control: Control) -> Asked {
        let Some(remote) = &self.remote else {
            return Box::pin(async { Answer::NoNode });
        };
        let asks = remote.asks.clone();
        let (ask, answered) = asks.wait();
        let outgoing = Outgoing {
            topic,
            message: Message::Control(control, Some(ask)),
        };
        if remote.publishes.try_send(outgoing).is_err() {
            add(&remote.counters.publish_failed, 1);
            asks.answer(ask, None);
        }
        Self::answer_of(asks, ask, answered)
    }

    /// Sends to connection `id` on another node and resolves with what became of it:
    /// delivered, refused (unknown there, slow, closing), or no answer within
    /// [`ASK_TIMEOUT`]. Nothing waits on the sender's thread until it is polled.
    pub(crate) fn ask(&self, id: &ConnectionId, frame: Frame) -> Asked {
        let Some(remote) = &self.remote else {
            return Box::pin(async { Answer::NoNode });
        };
        let asks = remote.asks.clone();
        let (ask, answered) = asks.wait();
        if !remote.enqueue(&Target::Connection(id.clone()), frame, Some(ask)) {
            asks.answer(ask, None);
        }
        Self::answer_of(asks, ask, answered)
    }

    /// Waits for the answer to `ask`, at most [`ASK_TIMEOUT`].
    fn answer_of(asks: Arc<Asks>, ask: u64, answered: oneshot::Receiver<Answer>) -> Asked {
        Box::pin(async move {
            match tokio::time::timeout(ASK_TIMEOUT, answered).await {
                Ok(Ok(answer)) => answer,
                Ok(Err(_)) => Answer::Unanswered, // dropped unanswered: not published
                Err(_) => {
                    asks.answer(ask, None);
                    Answer::Unanswered
                }
            }
        })
    }

    /// Makes the subscription to `topic` match whether this node still needs it.
    pub(crate) fn sync(&self, topic: Topic) -> Synced {
        let Some(remote) = &self.remote else {
            return Box::pin(async { true });
        };
        let (done, synced) = oneshot::channel();
        // Sent now, not when the future is first polled: callers may drop it.
        let _ = remote.syncs.send(SyncRequest { topic, done });
        Box::pin(async move { synced.await.unwrap_or(false) })
    }

    /// Whether other nodes can exist (false for the in-memory backplane).
    pub(crate) fn spans_nodes(&self) -> bool {
        self.remote.is_some()
    }

    /// Leaves cleanly: publishes what is queued (bounded by a timeout) and disconnects.
    pub(crate) fn close(&self) -> Closed {
        let Some(remote) = &self.remote else {
            return Box::pin(async {});
        };
        let stop = remote
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let (done, stopped) = oneshot::channel();
        if let Some(stop) = stop {
            let _ = stop.send(done);
        }
        Box::pin(async move {
            let _ = tokio::time::timeout(COMMAND_TIMEOUT, stopped).await;
        })
    }

    /// Counters.
    pub(crate) fn stats(&self) -> BackplaneStats {
        let Some(remote) = &self.remote else {
            return BackplaneStats {
                kind: self.kind,
                connected: true,
                ..BackplaneStats::default()
            };
        };
        let c = &remote.counters;
        BackplaneStats {
            kind: self.kind,
            connected: c.connected.load(Ordering::Relaxed),
            published: c.published.load(Ordering::Relaxed),
            publish_failed: c.publish_failed.load(Ordering::Relaxed),
            received: c.received.load(Ordering::Relaxed),
            connects: c.connects.load(Ordering::Relaxed),
            subscriptions: c.subscriptions.load(Ordering::Relaxed),
        }
    }
}

impl Remote {
    /// Queues a publish unless the queue is full in messages or bytes (then it is
    /// dropped and counted); `false` when dropped.
    fn enqueue(&self, target: &Target, frame: Frame, ask: Option<u64>) -> bool {
        self.enqueue_with(target, frame.clone(), |mut envelope| {
            envelope.ask = ask;
            Message::Send(envelope)
        })
    }

    fn enqueue_with(
        &self,
        target: &Target,
        frame: Frame,
        message: impl FnOnce(Envelope) -> Message,
    ) -> bool {
        let size = frame.as_str().len();
        let queued = self
            .counters
            .queued_bytes
            .fetch_add(size, Ordering::Relaxed);
        let envelope = Envelope {
            origin: self.node.as_str().to_owned(),
            target: target.clone(),
            frame,
            ask: None,
            at: None,
        };
        let outgoing = Outgoing {
            topic: Topic::of(target),
            message: message(envelope),
        };
        // Full (the broker is slower than the senders) or stopped: drop, count, never wait.
        if queued + size > self.queue_bytes || self.publishes.try_send(outgoing).is_err() {
            self.counters
                .queued_bytes
                .fetch_sub(size, Ordering::Relaxed);
            add(&self.counters.publish_failed, 1);
            return false;
        }
        true
    }
}

/// The packets' bytes in `batch` (what `publish_queue_bytes` bounds).
fn bytes_of(batch: &[Outgoing]) -> usize {
    batch.iter().map(Outgoing::size).sum()
}

/// Why serving a link ended.
enum End {
    /// Every handle is gone, or the node is leaving.
    Shutdown,
    /// The broker went away.
    Lost(TransportError),
}

async fn timed<T>(
    fut: impl Future<Output = Result<T, TransportError>>,
) -> Result<T, TransportError> {
    tokio::time::timeout(COMMAND_TIMEOUT, fut)
        .await
        .unwrap_or_else(|_| {
            Err(TransportError::new(
                "command",
                format!("no answer within {COMMAND_TIMEOUT:?}"),
            ))
        })
}

struct Bridge<T: Transport> {
    transport: T,
    stop: oneshot::Receiver<oneshot::Sender<()>>,
    names: Names,
    node: NodeId,
    delivery: Delivery,
    controls: ControlSink,
    publishes: mpsc::Receiver<Outgoing>,
    syncs: mpsc::UnboundedReceiver<SyncRequest>,
    counters: Arc<Counters>,
    asks: Arc<Asks>,
    /// Topic names the broker has confirmed for this link.
    subscribed: HashSet<String>,
    /// Answers to other nodes' asks, published right after the arrivals that asked.
    receipts: Vec<(String, Vec<u8>)>,
    reads: mpsc::UnboundedReceiver<ReadRequest>,
    /// The last publication delivered here, per stream (by its topic) with local
    /// subscribers.
    positions: HashMap<Topic, Position>,
    /// This node's presence counts, and its lease on the broker.
    presence: PresenceLease,
    presence_reads: mpsc::UnboundedReceiver<PresenceRead>,
}

impl<T: Transport> Bridge<T> {
    async fn run(mut self) {
        let mut backoff = Backoff::new(&self.node);
        loop {
            match self.connect().await {
                Ok((link, arrivals)) => {
                    backoff.reset();
                    add(&self.counters.connects, 1);
                    self.counters.connected.store(true, Ordering::Relaxed);
                    info!(node = %self.node, kind = T::KIND, subscriptions = self.subscribed.len(), "backplane connected");
                    let mut link = link;
                    let caught_up = match self.catch_up(&mut link).await {
                        Ok(()) => self.tend_presence(&mut link).await,
                        Err(why) => Err(why),
                    };
                    let end = match caught_up {
                        Ok(()) => self.serve(link, arrivals).await,
                        Err(why) => End::Lost(why),
                    };
                    self.counters.connected.store(false, Ordering::Relaxed);
                    self.subscribed.clear();
                    self.counters.subscriptions.store(0, Ordering::Relaxed);
                    match end {
                        End::Shutdown => return,
                        End::Lost(why) => {
                            warn!(node = %self.node, %why, "backplane lost; reconnecting");
                        }
                    }
                }
                Err(why) => warn!(node = %self.node, %why, "cannot reach the backplane; retrying"),
            }
            if let End::Shutdown = self.wait_down(backoff.next()).await {
                return;
            }
        }
    }

    /// Every topic this node needs now: its own, everyone's, and one per local channel
    /// and user.
    fn interest(&self) -> Vec<String> {
        let index = self.delivery.index();
        let mut wanted = vec![
            self.names.of(&Topic::Node(self.node.as_str().into())),
            self.names.of(&Topic::All),
        ];
        wanted.extend(
            index
                .channel_names()
                .into_iter()
                .map(|c| self.names.of(&Topic::Channel(c))),
        );
        wanted.extend(
            index
                .user_ids()
                .into_iter()
                .map(|u| self.names.of(&Topic::User(u))),
        );
        wanted
    }

    /// Opens a link and subscribes to everything the index needs now.
    async fn connect(&mut self) -> Result<(T::Link, Arrivals), TransportError> {
        let (mut link, arrivals) = timed(self.transport.connect()).await?;
        let wanted = self.interest();
        for chunk in wanted.chunks(RESUBSCRIBE_CHUNK) {
            timed(link.subscribe(chunk)).await?;
        }
        self.subscribed = wanted.into_iter().collect();
        self.counters
            .subscriptions
            .store(self.subscribed.len() as u64, Ordering::Relaxed);
        Ok((link, arrivals))
    }

    async fn serve(&mut self, mut link: T::Link, mut arrivals: Arrivals) -> End {
        let mut batch = Vec::with_capacity(PUBLISH_BATCH);
        let mut requests = Vec::new();
        let local = self.presence.local.clone();
        let mut lease = presence::renewals(self.presence.lease);
        loop {
            tokio::select! {
                stop = &mut self.stop => {
                    // Publish what handlers already sent, then leave.
                    while let Ok(outgoing) = self.publishes.try_recv() {
                        batch.push(outgoing);
                    }
                    if !batch.is_empty() {
                        let _ = self.publish(&mut link, &mut batch).await;
                    }
                    // This node's members leave now, not when its lease runs out.
                    let _ = self.release_presence(&mut link).await;
                    if let Ok(done) = stop {
                        let _ = done.send(());
                    }
                    return End::Shutdown;
                }
                arrival = arrivals.next() => match arrival {
                    Some(arrival) => {
                        if let Some(publication) = self.stream_publication(&arrival) {
                            if let Err(why) = self.deliver_stream(&mut link, publication).await {
                                return End::Lost(why);
                            }
                            continue;
                        }
                        self.deliver(arrival);
                        if let Err(why) = self.send_receipts(&mut link).await {
                            return End::Lost(why);
                        }
                    }
                    None => return End::Lost(TransportError::new("receive", "link closed")),
                },
                received = self.syncs.recv_many(&mut requests, SYNC_BATCH) => {
                    if received == 0 {
                        return End::Shutdown;
                    }
                    let result = self.reconcile(&mut link, &requests).await;
                    let confirmed = result.is_ok();
                    for request in requests.drain(..) {
                        let _ = request.done.send(confirmed);
                    }
                    if let Err(why) = result {
                        return End::Lost(why);
                    }
                }
                received = self.publishes.recv_many(&mut batch, PUBLISH_BATCH) => {
                    if received == 0 {
                        return End::Shutdown;
                    }
                    if let Err(why) = self.publish(&mut link, &mut batch).await {
                        return End::Lost(why);
                    }
                }
                Some(request) = self.reads.recv() => {
                    if let Err(why) = self.answer_read(&mut link, request).await {
                        return End::Lost(why);
                    }
                }
                () = local.changed() => {
                    if let Err(why) = self.flush_presence(&mut link).await {
                        return End::Lost(why);
                    }
                }
                _ = lease.tick() => {
                    if let Err(why) = self.tend_presence(&mut link).await {
                        return End::Lost(why);
                    }
                }
                Some(request) = self.presence_reads.recv() => {
                    if let Err(why) = self.answer_presence(&mut link, request).await {
                        return End::Lost(why);
                    }
                }
            }
        }
    }

    /// Takes `bytes` out of the queue's byte count.
    fn dequeued(&self, bytes: usize) {
        self.counters
            .queued_bytes
            .fetch_sub(bytes, Ordering::Relaxed);
    }

    /// One batch, one round trip, however many messages.
    async fn publish(
        &self,
        link: &mut T::Link,
        batch: &mut Vec<Outgoing>,
    ) -> Result<(), TransportError> {
        // The batch counts against the byte bound until the broker has it.
        let in_flight = bytes_of(batch);
        let mut refused = 0;
        let mut asks = Vec::with_capacity(batch.len());
        let mut streams = Vec::new();
        let messages: Vec<_> = batch
            .drain(..)
            .filter_map(|o| match o.encode(self.node.as_str()) {
                Some(rest) if matches!(o.message, Message::Stream(..)) => {
                    streams.extend(self.stream_publish(&o, rest));
                    None
                }
                Some(bytes) => {
                    asks.push(o.ask());
                    Some((self.names.of(&o.topic), bytes))
                }
                None => {
                    refused += 1; // a header with a newline: see `Envelope::encode`
                    if let Some(ask) = o.ask() {
                        self.asks.answer(ask, None);
                    }
                    None
                }
            })
            .collect();
        add(&self.counters.publish_failed, refused);
        let plain = if messages.is_empty() {
            Ok(Vec::new()) // a batch of stream publications only
        } else {
            timed(link.publish(&messages)).await
        };
        let published = match plain {
            Ok(receivers) if !streams.is_empty() => {
                timed(link.publish_streams(&streams)).await.map(|()| {
                    add(&self.counters.published, streams.len());
                    receivers
                })
            }
            published => published,
        };
        self.dequeued(in_flight);
        match published {
            Ok(receivers) => {
                add(&self.counters.published, messages.len());
                for (ask, receivers) in asks.into_iter().zip(receivers) {
                    if let (Some(ask), 0) = (ask, receivers) {
                        self.asks.answer(ask, Some(Answer::NoNode));
                    }
                }
                Ok(())
            }
            Err(why) => {
                add(&self.counters.publish_failed, messages.len());
                for ask in asks.into_iter().flatten() {
                    self.asks.answer(ask, None);
                }
                Err(why)
            }
        }
    }

    /// Publishes the receipts that the last arrival asked for.
    async fn send_receipts(&mut self, link: &mut T::Link) -> Result<(), TransportError> {
        if self.receipts.is_empty() {
            return Ok(());
        }
        let receipts = std::mem::take(&mut self.receipts);
        timed(link.publish(&receipts)).await?;
        add(&self.counters.published, receipts.len());
        Ok(())
    }

    /// Subscribes and unsubscribes so the broker matches what the index needs now for
    /// every topic asked about: one command per direction for the whole batch (a mass
    /// reconnect asks about thousands at once).
    async fn reconcile(
        &mut self,
        link: &mut T::Link,
        requests: &[SyncRequest],
    ) -> Result<(), TransportError> {
        let (mut join, mut leave) = (Vec::new(), Vec::new());
        for request in requests {
            let name = self.names.of(&request.topic);
            match (self.wanted(&request.topic), self.subscribed.contains(&name)) {
                (true, false) if !join.contains(&name) => join.push(name),
                (false, true) if !leave.contains(&name) => leave.push(name),
                _ => {}
            }
        }
        if !join.is_empty() {
            timed(link.subscribe(&join)).await?;
            self.subscribed.extend(join);
        }
        if !leave.is_empty() {
            timed(link.unsubscribe(&leave)).await?;
            for name in &leave {
                self.subscribed.remove(name);
            }
            for request in requests {
                if !self.wanted(&request.topic) {
                    self.positions.remove(&request.topic);
                }
            }
        }
        self.counters
            .subscriptions
            .store(self.subscribed.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Whether this node needs what is published on `topic`: a channel with a local
    /// subscriber, a user with a local connection, its own topic and everyone's.
    fn wanted(&self, topic: &Topic) -> bool {
        let index = self.delivery.index();
        match topic {
            Topic::Channel(channel) => index.has_subscribers(channel),
            Topic::User(user) => index.has_user(user),
            Topic::Node(_) | Topic::All => true,
        }
    }

    /// Hands a message from another node to the local sessions it is for, answers
    /// an ask with a receipt, and resolves a receipt for one of this node's asks.
    fn deliver(&mut self, arrival: Arrival) {
        let Some(topic) = self.names.parse(&arrival.topic) else {
            return;
        };
        if let Topic::Node(_) = topic
            && let Some(receipt) = Receipt::decode(&arrival.payload)
        {
            add(&self.counters.received, 1);
            self.asks
                .answer(receipt.ask, Some(Answer::Receipt(receipt.outcome)));
            return;
        }
        if let Some(Decoded {
            origin,
            ask,
            control,
        }) = Control::decode(&arrival.payload)
        {
            if origin == self.node.as_str() {
                return; // this node applied its own already
            }
            add(&self.counters.received, 1);
            let applied = (self.controls)(control);
            if let Some(ask) = ask {
                let receipt = Receipt {
                    origin: self.node.as_str().to_owned(),
                    ask,
                    outcome: if applied > 0 {
                        Ok(())
                    } else {
                        Err(NotDelivered::Unknown)
                    },
                };
                let asker = Topic::Node(origin.as_str().into());
                self.receipts
                    .push((self.names.of(&asker), receipt.encode()));
            }
            return;
        }
        let Some(envelope) = Envelope::decode(topic, &arrival.payload) else {
            debug!(
                topic = arrival.topic,
                "ignoring a message this node did not write"
            );
            return;
        };
        if envelope.origin == self.node.as_str() {
            return; // already delivered locally by the sender
        }
        add(&self.counters.received, 1);
        match (&envelope.target, envelope.ask) {
            (Target::Connection(id), Some(ask)) => {
                let receipt = Receipt {
                    origin: self.node.as_str().to_owned(),
                    ask,
                    outcome: self.delivery.deliver_to_connection(id, &envelope.frame),
                };
                let asker = Topic::Node(envelope.origin.as_str().into());
                self.receipts
                    .push((self.names.of(&asker), receipt.encode()));
            }
            (target, _) => {
                self.delivery.deliver(target, &envelope.frame);
            }
        }
    }

    /// While the broker is unreachable: publishes are dropped and counted, subscription
    /// requests are answered at once (the reconnect restores everything from the index).
    async fn wait_down(&mut self, delay: Duration) -> End {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        let mut batch = Vec::new();
        loop {
            tokio::select! {
                stop = &mut self.stop => {
                    if let Ok(done) = stop {
                        let _ = done.send(());
                    }
                    return End::Shutdown;
                }
                () = &mut sleep => return End::Lost(TransportError::new("reconnect", "")),
                request = self.syncs.recv() => match request {
                    // Nothing can be confirmed now; the reconnect restores the index's
                    // interest, and the session tells its client so meanwhile.
                    Some(request) => { let _ = request.done.send(false); }
                    None => return End::Shutdown,
                },
                Some(request) = self.reads.recv() => {
                    let _ = request.reply.send(None); // nothing to read from
                }
                Some(request) = self.presence_reads.recv() => {
                    let _ = request.reply.send(None);
                }
                received = self.publishes.recv_many(&mut batch, PUBLISH_BATCH) => {
                    if received == 0 {
                        return End::Shutdown;
                    }
                    add(&self.counters.publish_failed, received);
                    self.dequeued(bytes_of(&batch));
                    for ask in batch.drain(..).filter_map(|o| o.ask()) {
                        self.asks.answer(ask, None);
                    }
                }
            }
        }
    }
}
