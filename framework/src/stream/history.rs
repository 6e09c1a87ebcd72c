use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{HistorySpec, Position, Since, positioned};
use crate::protocol::Frame;

/// How often, at most, expired streams are looked for (on the next publish or read).
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The history of every stream on this node, bounded per stream (`size`, `ttl`) and in
/// all (`max_bytes`). A restart, or a stream left alone past its `ttl`, starts a new
/// epoch, so a client's old position is known to be lost rather than misread.
#[derive(Debug)]
pub(crate) struct History {
    streams: Mutex<Streams>,
    max_bytes: usize,
    /// Bytes kept by every stream together (read on each publish without a lock).
    total: AtomicUsize,
}

#[derive(Debug)]
struct Streams {
    by_channel: HashMap<Arc<str>, Arc<Mutex<Ring>>>,
    next_sweep: Instant,
}

/// One stream: its position and its last publications.
#[derive(Debug)]
struct Ring {
    epoch: Arc<str>,
    offset: u64,
    /// Positioned frames, oldest first, with their offsets.
    kept: VecDeque<(u64, Frame)>,
    bytes: usize,
    expires_at: Instant,
}

/// What a subscribe to a stream learns: the position now and, when it asked with
/// `since` and history holds everything after it, what it missed.
#[derive(Debug)]
pub(crate) struct Recovery {
    pub(crate) position: Position,
    /// `None`: no `since` was given. `Some(None)`: not recoverable (another epoch,
    /// trimmed, expired, or ahead of the stream). `Some(Some(frames))`: recovered.
    pub(crate) missed: Option<Option<Vec<Frame>>>,
}

impl History {
    /// An empty store holding at most `max_bytes` of history in all.
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self {
            streams: Mutex::new(Streams {
                by_channel: HashMap::new(),
                next_sweep: Instant::now() + SWEEP_EVERY,
            }),
            max_bytes,
            total: AtomicUsize::new(0),
        }
    }

    /// Gives the next publication on `channel` its position, keeps it, and runs
    /// `deliver` with the positioned frame while no other publication of the channel
    /// can come between (so every node-local recipient sees offsets in order).
    pub(crate) fn publish<R>(
        &self,
        channel: &Arc<str>,
        spec: HistorySpec,
        frame: &Frame,
        deliver: impl FnOnce(&Frame, &Position) -> R,
    ) -> R {
        let ring = self.ring(channel, spec);
        let mut ring = lock(&ring);
        ring.offset += 1;
        let offset = ring.offset;
        let at = positioned(frame, offset, &ring.epoch);
        ring.bytes += at.as_str().len();
        self.total.fetch_add(at.as_str().len(), Ordering::Relaxed);
        ring.kept.push_back((offset, at.clone()));
        while ring.kept.len() > spec.size() {
            self.freed(ring.drop_oldest());
        }
        ring.expires_at = Instant::now() + spec.ttl();
        let position = Position {
            offset,
            epoch: ring.epoch.clone(),
        };
        let delivered = deliver(&at, &position);
        let over = self
            .total
            .load(Ordering::Relaxed)
            .saturating_sub(self.max_bytes);
        drop(ring);
        if over > 0 {
            self.trim(over);
        }
        delivered
    }

    /// The position of `channel` now and, for a `since`, what followed it.
    pub(crate) fn read(
        &self,
        channel: &Arc<str>,
        spec: HistorySpec,
        since: Option<&Since>,
    ) -> Recovery {
        let ring = self.ring(channel, spec);
        let ring = lock(&ring);
        let position = Position {
            offset: ring.offset,
            epoch: ring.epoch.clone(),
        };
        let missed = since.map(|since| ring.after(since));
        Recovery { position, missed }
    }

    /// Streams kept, and the bytes of their history.
    pub(crate) fn size(&self) -> (usize, usize) {
        let streams = lock(&self.streams).by_channel.len();
        (streams, self.total.load(Ordering::Relaxed))
    }

    fn freed(&self, bytes: usize) {
        self.total.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// The live ring of `channel`: a new one (a new epoch) when there is none or it has
    /// expired. Expired rings of other channels are freed on the way, once a second.
    fn ring(&self, channel: &Arc<str>, spec: HistorySpec) -> Arc<Mutex<Ring>> {
        let now = Instant::now();
        let mut streams = lock(&self.streams);
        if now >= streams.next_sweep {
            streams.by_channel.retain(|_, ring| {
                let ring = lock(ring);
                let live = ring.expires_at > now;
                if !live {
                    self.freed(ring.bytes);
                }
                live
            });
            streams.next_sweep = now + SWEEP_EVERY;
        }
        let ring = streams
            .by_channel
            .entry(channel.clone())
            .or_insert_with(|| Arc::new(Mutex::new(Ring::new(now + spec.ttl()))));
        let expired = {
            let old = lock(ring);
            (old.expires_at <= now).then_some(old.bytes)
        };
        if let Some(bytes) = expired {
            self.freed(bytes);
            *ring = Arc::new(Mutex::new(Ring::new(now + spec.ttl())));
        }
        ring.clone()
    }

    /// Drops the oldest publications of the largest streams until `excess` bytes are
    /// freed (the node-wide cap: a recovery that needs them is refused, not wrong).
    fn trim(&self, mut excess: usize) {
        let streams = lock(&self.streams);
        let mut rings: Vec<_> = streams.by_channel.values().cloned().collect();
        drop(streams);
        rings.sort_by_key(|ring| std::cmp::Reverse(lock(ring).bytes));
        for ring in rings {
            let mut ring = lock(&ring);
            while excess > 0 && !ring.kept.is_empty() {
                let freed = ring.drop_oldest();
                self.freed(freed);
                excess = excess.saturating_sub(freed);
            }
            if excess == 0 {
                return;
            }
        }
    }
}

impl Ring {
    fn new(expires_at: Instant) -> Self {
        Self {
            epoch: new_epoch(),
            offset: 0,
            kept: VecDeque::new(),
            bytes: 0,
            expires_at,
        }
    }

    /// Frees the oldest publication; returns its size.
    fn drop_oldest(&mut self) -> usize {
        let freed = self.kept.pop_front().map_or(0, |(_, f)| f.as_str().len());
        self.bytes -= freed;
        freed
    }

    /// Everything published after `since`, if this ring still holds all of it.
    fn after(&self, since: &Since) -> Option<Vec<Frame>> {
        let position = Position {
            offset: self.offset,
            epoch: self.epoch.clone(),
        };
        recover(since, &position, self.kept.iter().cloned())
    }
}

/// What followed `since` up to `position` in a stream whose history is `kept` (oldest
/// first, each publication with its offset): `None` when that cannot be told in full
/// (another epoch, trimmed past it, or `since` ahead of the stream).
pub(crate) fn recover<T>(
    since: &Since,
    position: &Position,
    kept: impl IntoIterator<Item = (u64, T)>,
) -> Option<Vec<T>> {
    if *since.epoch != *position.epoch || since.offset > position.offset {
        return None;
    }
    let missed: Vec<(u64, T)> = kept
        .into_iter()
        .filter(|(offset, _)| *offset > since.offset && *offset <= position.offset)
        .collect();
    // Complete only when it runs without a hole from `since` to the position.
    let complete = missed.len() as u64 == position.offset - since.offset
        && missed
            .iter()
            .zip(since.offset + 1..)
            .all(|((offset, _), expected)| *offset == expected);
    complete.then(|| missed.into_iter().map(|(_, item)| item).collect())
}

/// A fresh epoch: 8 random hex digits.
pub(crate) fn new_epoch() -> Arc<str> {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:08x}", h.finish() & 0xffff_ffff).into()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn frame(n: u64) -> Frame {
        crate::protocol::encode("message", Some("room.1"), &json!({ "n": n })).expect("encodes")
    }

    fn publish(history: &History, channel: &Arc<str>, spec: HistorySpec, n: u64) -> u64 {
        history.publish(channel, spec, &frame(n), |_, at| at.offset)
    }

    fn since(offset: u64, epoch: &str) -> Since {
        Since {
            offset,
            epoch: epoch.into(),
        }
    }

    #[test]
    fn offsets_start_at_one_and_recovery_returns_exactly_what_followed() {
        let history = History::new(1 << 20);
        let room: Arc<str> = "room.1".into();
        let spec = HistorySpec::new(10, 60);
        let start = history.read(&room, spec, None).position;
        assert_eq!(start.offset, 0);
        for n in 1..=5 {
            assert_eq!(publish(&history, &room, spec, n), n);
        }
        let recovery = history.read(&room, spec, Some(&since(2, &start.epoch)));
        assert_eq!(recovery.position.offset, 5);
        assert_eq!(recovery.position.epoch, start.epoch, "one unbroken history");
        let missed = recovery.missed.flatten().expect("recovered");
        let offsets: Vec<Value> = missed
            .iter()
            .map(|f| serde_json::from_str::<Value>(f.as_str()).expect("json")["offset"].clone())
            .collect();
        assert_eq!(offsets, [json!(3), json!(4), json!(5)]);
    }

    use serde_json::Value;

    #[test]
    fn another_epoch_a_trimmed_past_and_a_future_offset_are_not_recoverable() {
        let history = History::new(1 << 20);
        let room: Arc<str> = "room.1".into();
        let spec = HistorySpec::new(3, 60);
        let epoch = history.read(&room, spec, None).position.epoch;
        for n in 1..=5 {
            publish(&history, &room, spec, n);
        }
        let not = |s: Since| {
            history
                .read(&room, spec, Some(&s))
                .missed
                .flatten()
                .is_none()
        };
        assert!(
            not(since(1, &epoch)),
            "3 and 4 are no longer kept... 2 is gone"
        );
        assert!(!not(since(2, &epoch)), "3, 4, 5 are kept");
        assert!(not(since(2, "other")), "another epoch");
        assert!(not(since(6, &epoch)), "ahead of the stream");
        assert!(!not(since(5, &epoch)), "up to date: nothing missed");
    }

    #[test]
    fn an_expired_stream_starts_a_new_epoch_and_is_freed() {
        let history = History::new(1 << 20);
        let room: Arc<str> = "room.1".into();
        let spec = HistorySpec::new(3, 1);
        let first = history.read(&room, spec, None).position.epoch;
        publish(&history, &room, spec, 1);
        lock(&history.ring(&room, spec)).expires_at = Instant::now(); // as if ttl passed
        let after = history.read(&room, spec, None).position;
        assert_ne!(after.epoch, first);
        assert_eq!(after.offset, 0);
        lock(&history.ring(&room, spec)).expires_at = Instant::now();
        lock(&history.streams).next_sweep = Instant::now();
        let other: Arc<str> = "room.2".into();
        history.read(&other, spec, None); // any access sweeps
        assert_eq!(history.size().0, 1, "only room.2 is left");
    }

    #[test]
    fn the_node_wide_byte_cap_drops_the_oldest_publications() {
        let one = positioned(&frame(1), 1, "00000000").as_str().len();
        let history = History::new(one * 4);
        let room: Arc<str> = "room.1".into();
        let spec = HistorySpec::new(100, 60);
        for n in 1..=10 {
            publish(&history, &room, spec, n);
        }
        let (_, bytes) = history.size();
        assert!(bytes <= one * 4 + 8, "{bytes} within the cap");
        assert_eq!(publish(&history, &room, spec, 11), 11, "offsets go on");
    }
}
