//! One connection's outbound queue, on the worker thread that serves it.
//!
//! Only that thread touches it (senders elsewhere hand their frames to the worker,
//! see [`super::worker`]), so a push is a `RefCell` borrow and a deque push: no lock,
//! no atomic but the frame's reference count on this worker's copy. The [`Writer`]
//! (the response body) takes the frames; the worker's sweep aborts a connection whose
//! writer makes no progress while frames wait.
//!
//! Memory is bounded by `limits.outbound_queue` frames and `limits.outbound_queue_bytes`
//! bytes: a push past either closes the connection with 4008 and frees what was queued.
//!
//! [`Writer`]: super::Writer

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Poll, Waker};
use std::time::Instant;

use actix_http::ws::CloseReason;
use actix_web::web::BytesMut;

use super::frame::LocalFrame;
use crate::ids::ConnectionId;
use crate::protocol::CloseCode;

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Undeliverable {
    /// The queue was full; the connection is being closed with 4008.
    SlowConsumer,
    /// The connection is closing or gone.
    Closed,
}

/// The bounds of one queue.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub(crate) frames: usize,
    /// At most `u32::MAX` (see [`Bounds::new`]).
    pub(crate) bytes: u64,
}

impl Bounds {
    pub(crate) fn new(frames: usize, bytes: usize) -> Self {
        Self {
            frames,
            bytes: (bytes as u64).min(u64::from(u32::MAX)),
        }
    }
}

/// What other threads may read of a connection without asking its worker: whether it
/// is open, closing, or closed for reading too slowly.
#[derive(Debug, Default)]
pub(crate) struct Condition(AtomicU8);

impl Condition {
    const OPEN: u8 = 0;
    const CLOSING: u8 = 1;
    const SLOW: u8 = 2;

    fn set(&self, value: u8) {
        // Only ever moves forward: open -> closing or slow.
        let _ = self
            .0
            .compare_exchange(Self::OPEN, value, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// `Ok` while open; otherwise why a send to it would fail.
    pub(crate) fn check(&self) -> Result<(), Undeliverable> {
        match self.0.load(Ordering::Relaxed) {
            Self::OPEN => Ok(()),
            Self::SLOW => Err(Undeliverable::SlowConsumer),
            _ => Err(Undeliverable::Closed),
        }
    }
}

/// One connection's queue and what the writer and the sweep need to know about it.
pub(crate) struct Queue {
    /// Unique on this worker: the key of the maps that hold this queue.
    pub(crate) key: u64,
    pub(crate) id: ConnectionId,
    pub(crate) user: Option<Arc<str>>,
    /// Shared with the routing index, for senders on other threads.
    pub(crate) condition: Arc<Condition>,
    /// What a push touches, in one cache line of its own.
    pending: Pending,
    state: RefCell<State>,
    /// The channels this connection is subscribed to (for sends to a user via a channel).
    pub(crate) channels: RefCell<HashSet<Arc<str>>>,
    /// Frames taken by the writer so far: the sweep's sign of progress.
    taken: Cell<u64>,
    stall: Cell<Stall>,
}

/// The frames waiting and the writer's waker. A broadcast pushes to thousands of
/// queues; each push should cost one cache line, so this is kept small and aligned.
#[derive(Default)]
#[repr(align(64))]
struct Pending(RefCell<Frames>);

const _: () = assert!(std::mem::size_of::<Pending>() == 64, "one cache line");

#[derive(Default)]
struct Frames {
    queued: VecDeque<LocalFrame>,
    waker: Option<Waker>,
    /// Bytes queued (the bound in bytes is at most `u32::MAX`).
    bytes: u32,
    /// [`CLOSING`] and [`GATED`].
    flags: u8,
    /// Passes the writer may still let go by before it writes (see [`Queue::take`]).
    deferrals: u8,
    /// Frames queued when the writer last let a pass go by (saturating; kept small so
    /// that this struct stays in one cache line).
    seen: u8,
    /// Passes in a row that brought nothing new.
    quiet: u8,
}

#[derive(Default)]
struct State {
    /// The first close asked for wins.
    close: Option<CloseReason>,
    /// The writer has taken the close frame: nothing more goes out.
    closed: bool,
    /// Aborted before any close was asked for: `close` only marks the queue closed.
    aborted_unclosed: bool,
    /// The writer is gone (the connection is over).
    writer_gone: bool,
    /// Called once, when the connection is aborted (the session stops).
    on_abort: Option<Box<dyn FnOnce()>>,
    /// The session's reader, paused while the queue is more than half full.
    reader: Option<Waker>,
    /// Streams whose live publications are held back or filtered while a subscribe
    /// reads their history (see [`Queue::hold`]); none most of the time.
    gates: HashMap<Arc<str>, Gate>,
}

/// What happens to a live publication of one stream on its way into this queue.
#[derive(Debug)]
enum Gate {
    /// A subscribe is reading the stream's history: publications wait here.
    Held(Vec<(Position, LocalFrame)>),
    /// The subscribe sent everything up to this position: older publications of the
    /// same epoch still in flight are dropped; the first newer one opens the gate.
    Floor(Position),
}

/// Where a stream stands, or where one of its publications stands: its offset (0
/// before the first publication) in one unbroken history, the epoch (see
/// the `stream` module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) offset: u64,
    pub(crate) epoch: Arc<str>,
}

/// A close was asked for: nothing more is queued.
const CLOSING: u8 = 1;
/// Some stream's publications pass a gate (see [`Queue::hold`]); kept beside the frames
/// so a broadcast to an ungated queue touches one cache line.
const GATED: u8 = 2;

impl Frames {
    fn closing(&self) -> bool {
        self.flags & CLOSING != 0
    }
}

/// What the sweep saw at its last look.
#[derive(Debug, Clone, Copy, Default)]
struct Stall {
    taken: u64,
    since: Option<Instant>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("id", &self.id)
            .field("queued", &self.pending.0.borrow().queued.len())
            .finish_non_exhaustive()
    }
}

impl Queue {
    pub(crate) fn new(key: u64, id: ConnectionId, user: Option<Arc<str>>) -> Self {
        Self {
            key,
            id,
            user,
            condition: Arc::default(),
            pending: Pending::default(),
            state: RefCell::default(),
            channels: RefCell::default(),
            taken: Cell::new(0),
            stall: Cell::default(),
        }
    }

    /// Queues a frame; a queue past `bounds` closes the connection with 4008.
    pub(crate) fn push(&self, frame: &LocalFrame, bounds: Bounds) -> Result<(), Undeliverable> {
        let mut pending = self.pending.0.borrow_mut();
        if pending.closing() {
            return Err(Undeliverable::Closed);
        }
        let bytes = u64::from(pending.bytes) + frame.len() as u64;
        if pending.queued.len() >= bounds.frames || bytes > bounds.bytes {
            // The client is not reading: free what waits for it and say goodbye.
            drop(pending);
            self.condition.set(Condition::SLOW);
            self.close(CloseCode::SlowConsumer.into());
            self.clear();
            return Err(Undeliverable::SlowConsumer);
        }
        pending.bytes = bytes as u32; // at most bounds.bytes, itself at most u32::MAX
        pending.queued.push_back(frame.clone());
        if pending.queued.len() == 1 {
            pending.deferrals = MAX_DEFERRALS;
            pending.seen = 0;
            pending.quiet = 0;
            wake(&pending);
        }
        Ok(())
    }

    /// Queues the publication at `offset` of stream `channel`, unless a subscribe is
    /// reading the stream's history (it waits) or has already sent it (dropped).
    pub(crate) fn push_at(
        &self,
        frame: &LocalFrame,
        bounds: Bounds,
        channel: &str,
        at: &Position,
    ) -> Result<(), Undeliverable> {
        if self.pending.0.borrow().flags & GATED != 0 {
            let mut state = self.state.borrow_mut();
            let gates = &mut state.gates;
            if let Some(gate) = gates.get_mut(channel) {
                match gate {
                    Gate::Held(held) => {
                        held.push((at.clone(), frame.clone()));
                        return Ok(());
                    }
                    Gate::Floor(floor) if at.epoch == floor.epoch && at.offset <= floor.offset => {
                        return Ok(());
                    }
                    Gate::Floor(_) => self.open(gates, channel),
                }
            }
        }
        self.push(frame, bounds)
    }

    /// Holds back live publications of stream `channel` while its history is read.
    pub(crate) fn hold(&self, channel: Arc<str>) {
        self.state
            .borrow_mut()
            .gates
            .insert(channel, Gate::Held(Vec::new()));
        self.pending.0.borrow_mut().flags |= GATED;
    }

    /// Ends [`Self::hold`]: what was held back after position `sent` is queued (the
    /// rest was in the history the subscriber was sent), and publications still in
    /// flight up to `sent` will be dropped.
    pub(crate) fn release(&self, channel: &Arc<str>, sent: Position, bounds: Bounds) {
        let held = {
            let mut state = self.state.borrow_mut();
            self.pending.0.borrow_mut().flags |= GATED;
            match state.gates.insert(channel.clone(), Gate::Floor(sent)) {
                Some(Gate::Held(held)) => held,
                _ => Vec::new(),
            }
        };
        for (at, frame) in held {
            let _ = self.push_at(&frame, bounds, channel, &at);
        }
    }

    /// Forgets any gate of `channel` (the connection left it).
    pub(crate) fn forget(&self, channel: &str) {
        self.open(&mut self.state.borrow_mut().gates, channel);
    }

    /// Removes `channel`'s gate; with the last one gone, pushes skip the gate check.
    fn open(&self, gates: &mut HashMap<Arc<str>, Gate>, channel: &str) {
        if gates.remove(channel).is_some() && gates.is_empty() {
            *gates = HashMap::new(); // give its memory back
            self.pending.0.borrow_mut().flags &= !GATED;
        }
    }

    /// Whether the session may read its client's next packet: not while what waits
    /// for the client fills more than half the queue, so a client that sends a burst
    /// faster than it reads the answers is slowed down (its packets wait in TCP)
    /// instead of being closed as a slow consumer. The reader is woken as the writer
    /// makes progress.
    pub(crate) fn poll_room(&self, bounds: Bounds, cx: &std::task::Context<'_>) -> Poll<()> {
        {
            let pending = self.pending.0.borrow();
            let roomy = pending.queued.len() * 2 < bounds.frames
                && u64::from(pending.bytes) * 2 < bounds.bytes;
            if roomy || pending.closing() {
                return Poll::Ready(());
            }
        }
        self.state.borrow_mut().reader = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Frees every frame waiting.
    fn clear(&self) {
        let mut pending = self.pending.0.borrow_mut();
        pending.queued = VecDeque::new();
        pending.bytes = 0;
    }

    /// Asks the writer to send what is queued, then a close frame, and finish. Returns
    /// false when a close was already asked for.
    pub(crate) fn close(&self, reason: CloseReason) -> bool {
        let mut state = self.state.borrow_mut();
        if state.close.is_some() {
            return false;
        }
        state.close = Some(reason);
        self.condition.set(Condition::CLOSING);
        let mut pending = self.pending.0.borrow_mut();
        pending.flags |= CLOSING;
        wake(&pending);
        true
    }

    /// True once a close was asked for.
    pub(crate) fn is_closing(&self) -> bool {
        self.state.borrow().close.is_some()
    }

    /// How the connection ended (or is ending): the close code asked for first, or
    /// none when it was aborted without one or no close was asked for.
    pub(crate) fn ending(&self) -> Option<u16> {
        let state = self.state.borrow();
        match &state.close {
            Some(reason) if !state.aborted_unclosed => Some(u16::from(reason.code)),
            _ => None,
        }
    }

    /// Runs `f` if the connection is aborted (see [`Self::abort`]).
    pub(crate) fn on_abort(&self, f: impl FnOnce() + 'static) {
        self.state.borrow_mut().on_abort = Some(Box::new(f));
    }

    /// Gives the connection up: queued frames are freed, nothing more is written, and
    /// the session is told to stop (the kernel resets the TCP connection itself, see
    /// [`super::socket`]).
    pub(crate) fn abort(&self) {
        // Never sent (nothing more is written); it marks the queue closed.
        let unclosed = self.close(CloseCode::Normal.into());
        self.clear();
        let on_abort = {
            let mut state = self.state.borrow_mut();
            state.closed = true;
            state.aborted_unclosed = unclosed;
            state.on_abort.take()
        };
        if let Some(f) = on_abort {
            f();
        }
    }

    /// The sweep's check, every tick: true when frames (or the close) have waited
    /// `timeout` with the writer taking nothing.
    pub(crate) fn stalled(&self, now: Instant, timeout: std::time::Duration) -> bool {
        let waiting = {
            let state = self.state.borrow();
            let queued = !self.pending.0.borrow().queued.is_empty();
            !state.writer_gone && (queued || state.close.is_some())
        };
        let taken = self.taken.get();
        let mut stall = self.stall.get();
        if !waiting || stall.taken != taken {
            stall = Stall { taken, since: None };
        } else if stall.since.is_none() {
            stall.since = Some(now);
        }
        self.stall.set(stall);
        stall.since.is_some_and(|since| now - since >= timeout)
    }

    // The writer's side.

    /// Appends what is queued to `buf`, up to about `batch` bytes, or says the close
    /// frame is due once everything queued has gone.
    pub(super) fn take(&self, buf: &mut BytesMut, batch: usize, waker: &Waker) -> Taken {
        {
            let mut pending = self.pending.0.borrow_mut();
            let queued = u8::try_from(pending.queued.len()).unwrap_or(u8::MAX);
            pending.quiet = if queued == pending.seen {
                pending.quiet.saturating_add(1)
            } else {
                0
            };
            if pending.deferrals > 0
                && !pending.queued.is_empty()
                && pending.quiet < QUIET_PASSES
                && (pending.bytes as usize) < batch
                && !pending.closing()
            {
                // Sends are still arriving (the queue grew within the last few passes):
                // let this round of them finish first, so one write carries them all.
                pending.deferrals -= 1;
                pending.seen = queued;
                waker.wake_by_ref();
                return Taken::Nothing;
            }
            if !pending.queued.is_empty() {
                // Written from here on without waiting: what is left after a full batch
                // goes next, and the next push to an empty queue starts a new round.
                pending.deferrals = 0;
                buf.reserve((pending.bytes as usize).min(batch));
                let mut taken = 0;
                while let Some(frame) = pending.queued.pop_front() {
                    buf.extend_from_slice(&frame);
                    pending.bytes -= frame.len() as u32;
                    taken += 1;
                    if buf.len() >= batch {
                        break;
                    }
                }
                self.taken.set(self.taken.get() + taken);
                if pending.queued.is_empty() && pending.queued.capacity() > RETAINED_CAPACITY {
                    pending.queued = VecDeque::new(); // a burst does not pin memory once idle
                }
                drop(pending);
                if let Some(reader) = self.state.borrow_mut().reader.take() {
                    reader.wake(); // it checks for room again
                }
                return Taken::Frames;
            }
            if !pending.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
                pending.waker = Some(waker.clone());
            }
        }
        let mut state = self.state.borrow_mut();
        if state.closed {
            return Taken::Finished;
        }
        match state.close.clone() {
            Some(reason) => {
                state.closed = true;
                self.taken.set(self.taken.get() + 1);
                Taken::Close(reason)
            }
            None => Taken::Nothing,
        }
    }

    pub(super) fn writer_gone(&self) {
        let mut state = self.state.borrow_mut();
        state.writer_gone = true;
        state.closed = true;
        drop(state);
        self.close(CloseCode::Normal.into());
        self.clear();
        self.pending.0.borrow_mut().waker = None;
    }
}

/// A woken writer writes once this many passes of its worker in a row brought its queue
/// nothing new: one pass is enough when a round of broadcasts is delivered in one go
/// (a publisher on this node); publications arriving paced from another node come in
/// smaller groups a pass or two apart (see BENCHMARKS.md, round 3).
const QUIET_PASSES: u8 = 3;

/// At most this many passes of the worker go by between a connection's first queued
/// frame and its write (see [`Queue::take`]).
const MAX_DEFERRALS: u8 = 12;

/// A queue whose deque grew past this many slots is given back its memory once drained.
const RETAINED_CAPACITY: usize = 64;

fn wake(pending: &Frames) {
    if let Some(waker) = &pending.waker {
        waker.wake_by_ref();
    }
}

/// What the writer gets from [`Queue::take`].
pub(super) enum Taken {
    /// Queued frames were appended to the buffer.
    Frames,
    Close(CloseReason),
    /// Nothing queued; the writer is woken on the next push or close.
    Nothing,
    /// The close frame went out already.
    Finished,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::frame::WireFrame;
    use crate::protocol::Frame;

    fn queue() -> Queue {
        Queue::new(1, ConnectionId::from("n-1"), None)
    }

    fn frame() -> LocalFrame {
        WireFrame::text(&Frame::from_static(r#"{"event":"x","data":{}}"#)).to_local()
    }

    #[test]
    fn the_queue_holds_exactly_its_frame_bound_then_closes_with_4008() {
        let (q, bounds) = (queue(), Bounds::new(3, 1 << 20));
        for _ in 0..3 {
            assert_eq!(q.push(&frame(), bounds), Ok(()));
        }
        assert_eq!(q.push(&frame(), bounds), Err(Undeliverable::SlowConsumer));
        assert!(q.is_closing());
        assert_eq!(q.condition.check(), Err(Undeliverable::SlowConsumer));
        // Closed for good, and what waited is freed.
        assert_eq!(q.push(&frame(), bounds), Err(Undeliverable::Closed));
        assert!(q.pending.0.borrow().queued.is_empty());
    }

    #[test]
    fn the_byte_bound_closes_too() {
        let one = frame().len();
        let (q, bounds) = (queue(), Bounds::new(100, one * 2));
        assert_eq!(q.push(&frame(), bounds), Ok(()));
        assert_eq!(q.push(&frame(), bounds), Ok(()));
        assert_eq!(q.push(&frame(), bounds), Err(Undeliverable::SlowConsumer));
    }

    #[test]
    fn the_first_close_reason_wins() {
        let q = queue();
        assert!(q.close(CloseCode::HeartbeatTimeout.into()));
        assert!(!q.close(CloseCode::Normal.into()));
        let reason = q.state.borrow().close.clone().expect("set");
        assert_eq!(u16::from(reason.code), 4000);
    }

    #[test]
    fn a_connection_ends_with_its_first_close_code_or_none_when_aborted_first() {
        let q = queue();
        assert_eq!(q.ending(), None, "open: no close asked for");
        q.close(CloseCode::SlowConsumer.into());
        q.abort();
        assert_eq!(
            q.ending(),
            Some(4008),
            "the close asked for before the abort"
        );

        let lost = queue();
        lost.abort();
        assert_eq!(lost.ending(), None, "aborted without a close handshake");
    }

    #[test]
    fn a_queue_is_stalled_only_after_the_timeout_without_progress() {
        let q = queue();
        let timeout = std::time::Duration::from_secs(10);
        let t0 = Instant::now();
        assert!(!q.stalled(t0, timeout), "nothing waits");
        q.push(&frame(), Bounds::new(8, 1 << 20)).expect("queued");
        assert!(!q.stalled(t0, timeout), "first look starts the clock");
        assert!(!q.stalled(t0 + timeout / 2, timeout));
        assert!(q.stalled(t0 + timeout, timeout));
        let mut buf = BytesMut::new();
        assert_eq!(quiet_passes(&q, &mut buf), usize::from(QUIET_PASSES));
        assert_eq!(buf.len(), frame().len());
        assert!(!q.stalled(t0 + timeout * 2, timeout), "progress resets it");
    }

    #[test]
    fn a_woken_writer_waits_while_its_queue_grows_then_writes_it_all_at_once() {
        let q = queue();
        let bounds = Bounds::new(64, 1 << 20);
        let waker = futures_util::task::noop_waker();
        let mut buf = BytesMut::new();
        q.push(&frame(), bounds).expect("queued");
        for _ in 0..3 {
            assert!(matches!(q.take(&mut buf, 1024, &waker), Taken::Nothing));
            q.push(&frame(), bounds).expect("queued"); // the round goes on
        }
        assert_eq!(
            quiet_passes(&q, &mut buf),
            usize::from(QUIET_PASSES),
            "passes that brought nothing new, then the write"
        );
        assert_eq!(buf.len(), 4 * frame().len(), "one batch for the round");
    }

    /// Takes until the writer writes; returns the passes it let go by.
    fn quiet_passes(q: &Queue, buf: &mut BytesMut) -> usize {
        let waker = futures_util::task::noop_waker();
        let mut passes = 0;
        while matches!(q.take(buf, 1024, &waker), Taken::Nothing) {
            passes += 1;
            assert!(passes <= usize::from(MAX_DEFERRALS), "bounded");
        }
        passes
    }

    #[test]
    fn a_writer_defers_a_bounded_number_of_passes_and_not_past_a_full_batch() {
        let q = queue();
        let bounds = Bounds::new(64, 1 << 20);
        let waker = futures_util::task::noop_waker();
        let mut buf = BytesMut::new();
        q.push(&frame(), bounds).expect("queued");
        let mut passes = 0;
        while matches!(q.take(&mut buf, 1024, &waker), Taken::Nothing) {
            passes += 1;
            q.push(&frame(), bounds).expect("queued"); // sends never stop
        }
        assert_eq!(passes, usize::from(MAX_DEFERRALS));
        buf.clear();
        let q = queue();
        let batch = 2 * frame().len();
        q.push(&frame(), bounds).expect("queued");
        q.push(&frame(), bounds).expect("queued");
        assert!(
            matches!(q.take(&mut buf, batch, &waker), Taken::Frames),
            "a full batch goes at once"
        );
    }

    fn position(offset: u64, epoch: &str) -> Position {
        Position {
            offset,
            epoch: epoch.into(),
        }
    }

    fn queued(q: &Queue) -> usize {
        q.pending.0.borrow().queued.len()
    }

    #[test]
    fn a_held_stream_queues_only_what_followed_the_history_sent_then_drops_stale_ones() {
        let q = queue();
        let bounds = Bounds::new(64, 1 << 20);
        let room: Arc<str> = "room.1".into();
        q.hold(room.clone());
        for offset in [4, 5, 6] {
            q.push_at(&frame(), bounds, &room, &position(offset, "e"))
                .expect("held");
        }
        assert_eq!(queued(&q), 0, "held while the history is read");
        q.release(&room, position(5, "e"), bounds);
        assert_eq!(queued(&q), 1, "4 and 5 were in the history sent; 6 follows");
        q.hold(room.clone());
        q.release(&room, position(9, "e"), bounds);
        q.push_at(&frame(), bounds, &room, &position(8, "e"))
            .expect("dropped");
        assert_eq!(queued(&q), 1, "still in flight, already sent");
        q.push_at(&frame(), bounds, &room, &position(1, "new"))
            .expect("queued");
        assert_eq!(queued(&q), 2, "a new epoch opens the gate");
        q.push_at(&frame(), bounds, &room, &position(2, "new"))
            .expect("queued");
        assert_eq!(queued(&q), 3);
        assert!(q.state.borrow().gates.is_empty(), "no gate left behind");
        assert_eq!(q.pending.0.borrow().flags & GATED, 0, "nor its flag");
    }

    #[test]
    fn what_is_left_after_a_full_batch_goes_at_once_and_a_new_round_waits_again() {
        let q = queue();
        let bounds = Bounds::new(64, 1 << 20);
        let waker = futures_util::task::noop_waker();
        let mut buf = BytesMut::new();
        for _ in 0..3 {
            q.push(&frame(), bounds).expect("queued");
        }
        let batch = frame().len(); // one frame per write
        while matches!(q.take(&mut buf, batch, &waker), Taken::Nothing) {}
        assert_eq!(buf.len(), frame().len());
        buf.clear();
        assert!(
            matches!(q.take(&mut buf, batch, &waker), Taken::Frames),
            "the rest, without waiting"
        );
        buf.clear();
        assert!(matches!(q.take(&mut buf, batch, &waker), Taken::Frames));
        assert!(
            q.pending.0.borrow().deferrals == 0,
            "an empty queue is not waited on"
        );
        buf.clear();
        q.push(&frame(), bounds).expect("queued"); // a new round
        assert_eq!(quiet_passes(&q, &mut buf), usize::from(QUIET_PASSES));
    }
}
