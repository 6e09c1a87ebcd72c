//! The Redis pub/sub backplane.
//!
//! One worker thread (its own single-threaded runtime, so it depends on no actix
//! arbiter) owns two Redis connections: a pub/sub connection whose subscriptions
//! follow the index, and a multiplexed one that publishes in pipelined batches.
//! Sessions and handlers never wait on it: publishes go through a bounded queue, and
//! subscription changes are hints that the worker reconciles with the index.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use super::{Backplane, BackplaneStats, Envelope, Synced, Topic};
use crate::config::{BackplaneSettings, ConfigError};
use crate::ids::NodeId;
use crate::index::Index;

/// Longest wait for Redis to answer one command before the link counts as lost.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(3);
/// Most publishes sent in one pipeline.
const PUBLISH_BATCH: usize = 256;
/// Topics per SUBSCRIBE command when restoring subscriptions after a reconnect.
const RESUBSCRIBE_CHUNK: usize = 1000;
/// Reconnect delays: doubling from the first to the cap, with jitter.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
struct Counters {
    connected: AtomicBool,
    published: AtomicU64,
    publish_failed: AtomicU64,
    received: AtomicU64,
    connects: AtomicU64,
    subscriptions: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Topic names on the wire, under the configured prefix.
#[derive(Debug, Clone)]
struct Names {
    prefix: Arc<str>,
}

impl Names {
    fn of(&self, topic: &Topic) -> String {
        let prefix = &self.prefix;
        match topic {
            Topic::Channel(c) => format!("{prefix}:ch:{c}"),
            Topic::User(u) => format!("{prefix}:user:{u}"),
            Topic::Node(n) => format!("{prefix}:node:{n}"),
        }
    }

    fn parse(&self, name: &str) -> Option<Topic> {
        let rest = name.strip_prefix(&*self.prefix)?.strip_prefix(':')?;
        let (kind, value) = rest.split_once(':')?;
        let value: Arc<str> = value.into();
        match kind {
            "ch" => Some(Topic::Channel(value)),
            "user" => Some(Topic::User(value)),
            "node" => Some(Topic::Node(value)),
            _ => None,
        }
    }
}

struct Publish {
    topic: Topic,
    envelope: Envelope,
}

struct SyncRequest {
    topic: Topic,
    done: oneshot::Sender<()>,
}

/// The handle sessions and the server use; dropping it stops the worker.
#[derive(Debug)]
pub(crate) struct RedisBackplane {
    publishes: mpsc::Sender<Publish>,
    syncs: mpsc::UnboundedSender<SyncRequest>,
    counters: Arc<Counters>,
    /// Asks the worker to flush and leave; it answers on the enclosed sender.
    stop: std::sync::Mutex<Option<oneshot::Sender<oneshot::Sender<()>>>>,
}

impl std::fmt::Debug for Publish {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publish")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl RedisBackplane {
    /// Checks the URL and starts the worker; the first connection is made in the
    /// background, so a node starts (and serves locally) even while Redis is down.
    pub(crate) fn start(
        settings: &BackplaneSettings,
        node: NodeId,
        index: Arc<Index>,
    ) -> Result<Self, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            origin: "settings".to_owned(),
            key: key.to_owned(),
            message,
        };
        let client = redis::Client::open(settings.url.expose())
            .map_err(|e| invalid("backplane.url", format!("not a Redis URL: {e}")))?;
        let (publishes, publish_rx) = mpsc::channel(settings.publish_queue);
        let (syncs, sync_rx) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        let (stop, stop_rx) = oneshot::channel();
        let worker = Worker {
            stop: stop_rx,
            client,
            names: Names {
                prefix: settings.prefix.as_str().into(),
            },
            node,
            index,
            publishes: publish_rx,
            syncs: sync_rx,
            counters: counters.clone(),
            subscribed: HashSet::new(),
        };
        std::thread::Builder::new()
            .name("switchboard-redis".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(worker.run()),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot start the Redis backplane runtime")
                    }
                }
            })
            .map_err(|e| {
                invalid(
                    "backplane.kind",
                    format!("cannot start the Redis worker thread: {e}"),
                )
            })?;
        Ok(Self {
            publishes,
            syncs,
            counters,
            stop: std::sync::Mutex::new(Some(stop)),
        })
    }
}

impl Backplane for RedisBackplane {
    fn publish(&self, topic: Topic, envelope: Envelope) {
        if self
            .publishes
            .try_send(Publish { topic, envelope })
            .is_err()
        {
            // Full (Redis slower than the senders) or stopped: drop, count, never wait.
            Counters::add(&self.counters.publish_failed, 1);
        }
    }

    fn sync(&self, topic: Topic) -> Synced {
        let (done, synced) = oneshot::channel();
        // Sent now, not when the future is first polled: callers may drop it.
        let _ = self.syncs.send(SyncRequest { topic, done });
        Box::pin(async move {
            let _ = synced.await;
        })
    }

    fn spans_nodes(&self) -> bool {
        true
    }

    fn close(&self) -> Synced {
        let stop = self
            .stop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let (done, stopped) = oneshot::channel();
        if let Some(stop) = stop {
            let _ = stop.send(done);
        }
        Box::pin(async move {
            let _ = tokio::time::timeout(COMMAND_TIMEOUT, stopped).await;
        })
    }

    fn stats(&self) -> BackplaneStats {
        let c = &self.counters;
        BackplaneStats {
            kind: "redis",
            connected: c.connected.load(Ordering::Relaxed),
            published: c.published.load(Ordering::Relaxed),
            publish_failed: c.publish_failed.load(Ordering::Relaxed),
            received: c.received.load(Ordering::Relaxed),
            connects: c.connects.load(Ordering::Relaxed),
            subscriptions: c.subscriptions.load(Ordering::Relaxed),
        }
    }
}

/// Why serving a connection ended.
enum End {
    /// Every handle is gone: the server stopped.
    Shutdown,
    /// Redis went away.
    Lost(String),
}

struct Link {
    sink: PubSubSink,
    stream: PubSubStream,
    publisher: MultiplexedConnection,
}

struct Worker {
    stop: oneshot::Receiver<oneshot::Sender<()>>,
    client: redis::Client,
    names: Names,
    node: NodeId,
    index: Arc<Index>,
    publishes: mpsc::Receiver<Publish>,
    syncs: mpsc::UnboundedReceiver<SyncRequest>,
    counters: Arc<Counters>,
    /// Topic names Redis has confirmed for this connection.
    subscribed: HashSet<String>,
}

async fn timed<T>(
    what: &str,
    fut: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, String> {
    match tokio::time::timeout(COMMAND_TIMEOUT, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no answer within {COMMAND_TIMEOUT:?}")),
    }
}

use std::future::Future;

impl Worker {
    async fn run(mut self) {
        let mut backoff = Backoff::new(&self.node);
        loop {
            match self.connect().await {
                Ok(link) => {
                    backoff.reset();
                    Counters::add(&self.counters.connects, 1);
                    self.counters.connected.store(true, Ordering::Relaxed);
                    info!(node = %self.node, subscriptions = self.subscribed.len(), "redis backplane connected");
                    let end = self.serve(link).await;
                    self.counters.connected.store(false, Ordering::Relaxed);
                    self.subscribed.clear();
                    self.counters.subscriptions.store(0, Ordering::Relaxed);
                    match end {
                        End::Shutdown => return,
                        End::Lost(why) => {
                            warn!(node = %self.node, %why, "redis backplane lost; reconnecting")
                        }
                    }
                }
                Err(why) => warn!(node = %self.node, %why, "cannot reach redis; retrying"),
            }
            if let End::Shutdown = self.wait_down(backoff.next()).await {
                return;
            }
        }
    }

    /// Opens both connections and subscribes to everything the index needs now.
    async fn connect(&mut self) -> Result<Link, String> {
        let pubsub = timed("connect (pub/sub)", self.client.get_async_pubsub()).await?;
        let publisher = timed(
            "connect (publish)",
            self.client.get_multiplexed_async_connection(),
        )
        .await?;
        let (mut sink, stream) = pubsub.split();
        let mut wanted = vec![self.names.of(&Topic::Node(self.node.as_str().into()))];
        wanted.extend(
            self.index
                .channel_names()
                .iter()
                .map(|c| self.names.of(&Topic::Channel(c.clone()))),
        );
        wanted.extend(
            self.index
                .user_ids()
                .iter()
                .map(|u| self.names.of(&Topic::User(u.clone()))),
        );
        for chunk in wanted.chunks(RESUBSCRIBE_CHUNK) {
            timed("subscribe", sink.subscribe(chunk)).await?;
        }
        self.subscribed = wanted.into_iter().collect();
        self.counters
            .subscriptions
            .store(self.subscribed.len() as u64, Ordering::Relaxed);
        Ok(Link {
            sink,
            stream,
            publisher,
        })
    }

    async fn serve(&mut self, mut link: Link) -> End {
        let mut batch = Vec::with_capacity(PUBLISH_BATCH);
        loop {
            tokio::select! {
                stop = &mut self.stop => {
                    // Publish what handlers already sent, then leave.
                    while let Ok(publish) = self.publishes.try_recv() {
                        batch.push(publish);
                    }
                    if !batch.is_empty() {
                        let _ = self.publish(&mut link.publisher, &mut batch).await;
                    }
                    if let Ok(done) = stop {
                        let _ = done.send(());
                    }
                    return End::Shutdown;
                }
                message = link.stream.next() => match message {
                    Some(message) => self.deliver(&message),
                    None => return End::Lost("pub/sub connection closed".into()),
                },
                request = self.syncs.recv() => {
                    let Some(request) = request else { return End::Shutdown };
                    let result = self.reconcile(&mut link.sink, &request.topic).await;
                    let _ = request.done.send(());
                    if let Err(why) = result {
                        return End::Lost(why);
                    }
                }
                received = self.publishes.recv_many(&mut batch, PUBLISH_BATCH) => {
                    if received == 0 {
                        return End::Shutdown;
                    }
                    if let Err(why) = self.publish(&mut link.publisher, &mut batch).await {
                        return End::Lost(why);
                    }
                }
            }
        }
    }

    /// One pipeline for the whole batch: one round trip, however many messages.
    async fn publish(
        &self,
        publisher: &mut MultiplexedConnection,
        batch: &mut Vec<Publish>,
    ) -> Result<(), String> {
        let mut pipe = redis::pipe();
        for publish in batch.iter() {
            pipe.publish(self.names.of(&publish.topic), publish.envelope.encode())
                .ignore();
        }
        let count = batch.len();
        batch.clear();
        match timed("publish", pipe.query_async::<()>(publisher)).await {
            Ok(()) => {
                Counters::add(&self.counters.published, count);
                Ok(())
            }
            Err(why) => {
                Counters::add(&self.counters.publish_failed, count);
                Err(why)
            }
        }
    }

    /// Subscribes or unsubscribes so Redis matches what the index needs now.
    async fn reconcile(&mut self, sink: &mut PubSubSink, topic: &Topic) -> Result<(), String> {
        let name = self.names.of(topic);
        let wanted = match topic {
            Topic::Channel(channel) => self.index.has_subscribers(channel),
            Topic::User(user) => self.index.has_user(user),
            Topic::Node(_) => true,
        };
        match (wanted, self.subscribed.contains(&name)) {
            (true, false) => {
                timed("subscribe", sink.subscribe(&name)).await?;
                self.subscribed.insert(name);
            }
            (false, true) => {
                timed("unsubscribe", sink.unsubscribe(&name)).await?;
                self.subscribed.remove(&name);
            }
            _ => {}
        }
        self.counters
            .subscriptions
            .store(self.subscribed.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Hands a message from another node to the local sessions it is for.
    fn deliver(&self, message: &redis::Msg) {
        let (Some(topic), Some(envelope)) = (
            self.names.parse(message.get_channel_name()),
            Envelope::decode(message.get_payload_bytes()),
        ) else {
            debug!(
                topic = message.get_channel_name(),
                "ignoring a message this node did not write"
            );
            return;
        };
        if envelope.origin == self.node.as_str() {
            return; // already delivered locally by the sender
        }
        Counters::add(&self.counters.received, 1);
        let frame = &envelope.frame;
        match topic {
            Topic::Channel(channel) => {
                self.index
                    .broadcast(&channel, frame, envelope.except.as_deref());
            }
            Topic::User(user) => match &envelope.only_on {
                Some(channel) => {
                    self.index.send_to_user_on_channel(&user, channel, frame);
                }
                None => {
                    self.index.send_to_user(&user, frame);
                }
            },
            Topic::Node(_) => {
                if let Some(target) = &envelope.target {
                    let _ = self
                        .index
                        .send_to_connection(target, envelope.frame.clone());
                }
            }
        }
    }

    /// While Redis is unreachable: publishes are dropped and counted, subscription
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
                () = &mut sleep => return End::Lost(String::new()),
                request = self.syncs.recv() => match request {
                    Some(request) => { let _ = request.done.send(()); }
                    None => return End::Shutdown,
                },
                received = self.publishes.recv_many(&mut batch, PUBLISH_BATCH) => {
                    if received == 0 {
                        return End::Shutdown;
                    }
                    Counters::add(&self.counters.publish_failed, received);
                    batch.clear();
                }
            }
        }
    }
}

/// Exponential backoff with jitter, so nodes that lost Redis together do not all
/// reconnect in the same instant.
struct Backoff {
    next: Duration,
    seed: u64,
}

impl Backoff {
    fn new(node: &NodeId) -> Self {
        let seed = node
            .as_str()
            .bytes()
            .fold(0x9e37_79b9_7f4a_7c15, |h: u64, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        Self {
            next: BACKOFF_FIRST,
            seed: seed | 1,
        }
    }

    fn reset(&mut self) {
        self.next = BACKOFF_FIRST;
    }

    /// Half the current step plus a random part of the other half.
    fn next(&mut self) -> Duration {
        // xorshift64: plenty for jitter.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let step = self.next;
        self.next = (self.next * 2).min(BACKOFF_CAP);
        let half = step / 2;
        let jitter = half.mul_f64((self.seed % 1000) as f64 / 1000.0);
        half + jitter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_round_trip() {
        let names = Names {
            prefix: "sb".into(),
        };
        for topic in [
            Topic::Channel("user:chat.42".into()),
            Topic::User("alice".into()),
            Topic::Node("abc123".into()),
        ] {
            assert_eq!(names.parse(&names.of(&topic)), Some(topic));
        }
        assert_eq!(names.parse("other:ch:x"), None);
    }

    #[test]
    fn backoff_grows_to_the_cap_with_jitter() {
        let mut backoff = Backoff::new(&NodeId::random());
        let delays: Vec<_> = (0..10).map(|_| backoff.next()).collect();
        assert!(delays[0] >= BACKOFF_FIRST / 2 && delays[0] <= BACKOFF_FIRST);
        assert!(delays.iter().all(|d| *d <= BACKOFF_CAP));
        assert!(delays[9] >= BACKOFF_CAP / 2);
        backoff.reset();
        assert!(backoff.next() <= BACKOFF_FIRST);
    }
}
