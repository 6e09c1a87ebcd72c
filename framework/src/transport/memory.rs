//! An in-process broker as a [`Transport`], for tests (cargo feature `testing`): two or
//! more nodes of one process share a [`Broker`], which does what Redis does for them
//! (pub/sub by topic name, receiver counts, streams with the Lua scripts' semantics),
//! and lets a test cut a node off or lose publications on their way to it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{
    Arrival, Arrivals, Backplane, ControlSink, Link, PresenceLease, PresenceUpdate, StreamKeys,
    StreamLog, StreamPublish, Transport, TransportError,
};
use crate::presence::{PresenceMode, Snapshot};

mod presence;
use crate::config::{BackplaneSettings, ConfigError};
use crate::delivery::Delivery;
use crate::ids::NodeId;

/// A message broker inside the test's process, shared by every node started with
/// [`SwitchboardBuilder::backplane`](crate::SwitchboardBuilder::backplane): what Redis
/// is for nodes in production, with faults on demand.
///
/// Clones share one broker.
///
/// ```no_run
/// use switchboard::Switchboard;
/// use switchboard::testing::{self, Broker};
///
/// # async fn demo() -> Result<(), testing::TestError> {
/// let broker = Broker::new();
/// let a = testing::start(Switchboard::builder(testing::settings()).backplane(broker.clone()))?;
/// let b = testing::start(Switchboard::builder(testing::settings()).backplane(broker.clone()))?;
/// broker.partition(&b); // b's link ends, and b cannot reconnect…
/// broker.heal(&b); //      …until now: it reconnects and repairs its streams
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Broker {
    state: Arc<Mutex<State>>,
}

impl Default for Broker {
    fn default() -> Self {
        let broker = Self {
            state: Arc::default(),
        };
        broker.lock().rng = DEFAULT_SEED;
        broker
    }
}

/// The losses a broker draws unless seeded otherwise.
const DEFAULT_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// The next number of the sequence in `[0, 1)` (xorshift64*, enough for drawing losses).
fn next_unit(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    // The top 53 bits of the scrambled state, as a fraction.
    (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Broker")
            .field("links", &state.links.len())
            .field("streams", &state.streams.len())
            .field("partitioned", &state.partitioned)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    next_link: u64,
    links: HashMap<u64, LinkState>,
    /// Nodes cut off: their links are gone and they cannot open new ones.
    partitioned: HashSet<String>,
    /// Publications still to lose on their way to each node.
    to_drop: HashMap<String, usize>,
    /// The chance of losing each publication on its way to a node (a lossy link).
    loss: HashMap<String, f64>,
    /// The pseudo-random sequence those losses are drawn from (xorshift64*: a seed
    /// replays the same losses, so a failing run can be run again).
    rng: u64,
    /// By the stream's position key.
    streams: HashMap<String, Stream>,
    /// Presence channels and node leases (what `redis/presence.rs` keeps in Redis).
    presence: presence::Book,
}

struct LinkState {
    node: String,
    topics: HashSet<String>,
    arrivals: mpsc::UnboundedSender<Arrival>,
}

/// One stream, as the Redis scripts keep it: a position and the last publications
/// (`OFFSET\n` and the envelope's rest), which expire together.
struct Stream {
    epoch: Arc<str>,
    offset: u64,
    history: VecDeque<Vec<u8>>,
    expires: Instant,
}

impl State {
    /// Delivers `payload` to every link subscribed to `topic`, losing what a node was
    /// set to lose; returns how many subscribers there were, as Redis's PUBLISH does
    /// (a lost message was still sent).
    fn publish(&mut self, topic: &str, payload: &[u8]) -> u64 {
        let mut receivers = 0;
        for link in self.links.values() {
            if !link.topics.contains(topic) {
                continue;
            }
            receivers += 1;
            if let Some(left) = self.to_drop.get_mut(&link.node)
                && *left > 0
            {
                *left -= 1;
                continue;
            }
            if let Some(&rate) = self.loss.get(&link.node)
                && next_unit(&mut self.rng) < rate
            {
                continue;
            }
            // A link whose bridge is gone has no receiver left: nothing to deliver.
            let _ = link.arrivals.send(Arrival {
                topic: topic.to_owned(),
                payload: payload.to_vec(),
            });
        }
        receivers
    }

    /// The live stream at `key`; a new one (epoch `new_epoch`, offset 0, kept for
    /// `ttl`) when there is none or it expired, as with the scripts' `HSETNX`.
    fn stream(
        &mut self,
        key: &str,
        new_epoch: &Arc<str>,
        ttl: Duration,
        now: Instant,
    ) -> &mut Stream {
        if self.streams.get(key).is_some_and(|s| s.expires <= now) {
            self.streams.remove(key);
        }
        self.streams
            .entry(key.to_owned())
            .or_insert_with(|| Stream {
                epoch: new_epoch.clone(),
                offset: 0,
                history: VecDeque::new(),
                expires: now + ttl,
            })
    }
}

impl Broker {
    /// Cuts node `node` off (see `testing`'s `Broker::partition`, which takes a
    /// running server: the transport layer does not know servers).
    pub(crate) fn partition_node(&self, node: &str) {
        let mut state = self.lock();
        // Dropping a link's sender ends its arrivals: the bridge reconnects.
        state.links.retain(|_, link| link.node != node);
        state.partitioned.insert(node.to_owned());
    }

    pub(crate) fn heal_node(&self, node: &str) {
        self.lock().partitioned.remove(node);
    }

    pub(crate) fn drop_next_to(&self, node: &str, count: usize) {
        *self.lock().to_drop.entry(node.to_owned()).or_default() += count;
    }

    pub(crate) fn set_loss_to(&self, node: &str, rate: f64) {
        let mut state = self.lock();
        if rate > 0.0 {
            state.loss.insert(node.to_owned(), rate.min(1.0));
        } else {
            state.loss.remove(node);
        }
    }

    pub(crate) fn seeded(seed: u64) -> Self {
        let broker = Self::default();
        // xorshift never leaves 0: any seed maps to a non-zero state.
        broker.lock().rng = seed | 1;
        broker
    }

    pub(crate) fn has_link(&self, node: &str) -> bool {
        self.lock().links.values().any(|link| link.node == node)
    }

    /// Starts the bridge of a node being built on this broker.
    pub(crate) fn join(
        &self,
        settings: &BackplaneSettings,
        node: NodeId,
        delivery: Delivery,
        controls: ControlSink,
        presence: PresenceLease,
    ) -> Result<Backplane, ConfigError> {
        let transport = MemoryTransport {
            broker: self.clone(),
            node: node.to_string(),
        };
        Backplane::start(transport, settings, node, delivery, controls, presence)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock leaves consistent data: every
        // change under it is a single step.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One node's side of a [`Broker`].
struct MemoryTransport {
    broker: Broker,
    node: String,
}

struct MemoryLink {
    broker: Broker,
    id: u64,
}

impl MemoryLink {
    /// The broker's state, or the error every operation fails with once the link was
    /// cut by a partition.
    fn state(&self, what: &'static str) -> Result<MutexGuard<'_, State>, TransportError> {
        let state = self.broker.lock();
        if state.links.contains_key(&self.id) {
            Ok(state)
        } else {
            Err(TransportError::new(what, "partitioned"))
        }
    }
}

impl Transport for MemoryTransport {
    type Link = MemoryLink;
    const KIND: &'static str = "in-process";

    async fn connect(&mut self) -> Result<(MemoryLink, Arrivals), TransportError> {
        let mut state = self.broker.lock();
        if state.partitioned.contains(&self.node) {
            return Err(TransportError::new("connect", "partitioned"));
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        state.next_link += 1;
        let id = state.next_link;
        state.links.insert(
            id,
            LinkState {
                node: self.node.clone(),
                topics: HashSet::new(),
                arrivals: tx,
            },
        );
        let arrivals = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
        let link = MemoryLink {
            broker: self.broker.clone(),
            id,
        };
        Ok((link, Box::pin(arrivals)))
    }
}

impl Link for MemoryLink {
    async fn subscribe(&mut self, topics: &[String]) -> Result<(), TransportError> {
        let mut state = self.state("subscribe")?;
        if let Some(link) = state.links.get_mut(&self.id) {
            link.topics.extend(topics.iter().cloned());
        }
        Ok(())
    }

    async fn unsubscribe(&mut self, topics: &[String]) -> Result<(), TransportError> {
        let mut state = self.state("unsubscribe")?;
        if let Some(link) = state.links.get_mut(&self.id) {
            for topic in topics {
                link.topics.remove(topic);
            }
        }
        Ok(())
    }

    async fn publish(&mut self, batch: &[(String, Vec<u8>)]) -> Result<Vec<u64>, TransportError> {
        let mut state = self.state("publish")?;
        Ok(batch
            .iter()
            .map(|(topic, payload)| state.publish(topic, payload))
            .collect())
    }

    /// `PUBLISH_STREAM` of the Redis transport, one publication at a time under the
    /// lock (what the script's atomicity gives there).
    async fn publish_streams(&mut self, batch: &[StreamPublish]) -> Result<(), TransportError> {
        let mut state = self.state("publish to a stream")?;
        let now = Instant::now();
        for publication in batch {
            let key = &publication.keys.position;
            let ttl = publication.spec.ttl();
            let stream = state.stream(key, &publication.new_epoch, ttl, now);
            stream.offset += 1;
            let offset = stream.offset;
            let mut entry = format!("{offset}\n").into_bytes();
            entry.extend_from_slice(&publication.rest);
            stream.history.push_back(entry);
            while stream.history.len() > publication.spec.size() {
                stream.history.pop_front();
            }
            stream.expires = now + ttl;
            let mut payload = format!("sb1 at={offset} {}\n", stream.epoch).into_bytes();
            payload.extend_from_slice(&publication.rest);
            state.publish(&publication.topic, &payload);
        }
        Ok(())
    }

    /// `READ_STREAM` of the Redis transport: a stream that does not exist starts
    /// `new_epoch` at offset 0, kept for `ttl`.
    async fn read_stream(
        &mut self,
        keys: &StreamKeys,
        new_epoch: &str,
        ttl: Duration,
        history: bool,
    ) -> Result<StreamLog, TransportError> {
        let mut state = self.state("read a stream")?;
        let now = Instant::now();
        let stream = state.stream(&keys.position, &Arc::from(new_epoch), ttl, now);
        Ok(StreamLog {
            offset: stream.offset,
            epoch: stream.epoch.clone(),
            entries: if history {
                stream.history.iter().cloned().collect()
            } else {
                Vec::new()
            },
        })
    }

    async fn presence_update(
        &mut self,
        _prefix: &str,
        node: &str,
        batch: &[PresenceUpdate],
    ) -> Result<(), TransportError> {
        let mut state = self.state("update presence")?;
        for (topic, payload) in state.presence.update(node, batch) {
            state.publish(&topic, &payload);
        }
        Ok(())
    }

    async fn presence_renew(
        &mut self,
        _prefix: &str,
        node: &str,
        lease: Duration,
    ) -> Result<bool, TransportError> {
        let mut state = self.state("renew the presence lease")?;
        Ok(state.presence.renew(node, lease, Instant::now()))
    }

    async fn presence_claim(
        &mut self,
        prefix: &str,
        only: Option<&str>,
    ) -> Result<(), TransportError> {
        let mut state = self.state("claim lost presence")?;
        for (topic, payload) in state.presence.claim(prefix, only, Instant::now()) {
            state.publish(&topic, &payload);
        }
        Ok(())
    }

    async fn presence_read(
        &mut self,
        _prefix: &str,
        channel: &str,
        mode: PresenceMode,
    ) -> Result<Snapshot, TransportError> {
        let state = self.state("read presence")?;
        Ok(state.presence.read(channel, mode))
    }
}
