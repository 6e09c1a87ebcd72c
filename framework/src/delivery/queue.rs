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
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::Waker;
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
    pub(crate) bytes: usize,
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
    bounds: Bounds,
    state: RefCell<State>,
    /// The channels this connection is subscribed to (for sends to a user via a channel).
    pub(crate) channels: RefCell<HashSet<Arc<str>>>,
    /// Frames taken by the writer so far: the sweep's sign of progress.
    taken: Cell<u64>,
    stall: Cell<Stall>,
}

#[derive(Default)]
struct State {
    frames: VecDeque<LocalFrame>,
    bytes: usize,
    waker: Option<Waker>,
    /// The first close asked for wins.
    close: Option<CloseReason>,
    /// The writer has taken the close frame: nothing more goes out.
    closed: bool,
    /// The writer is gone (the connection is over).
    writer_gone: bool,
    /// Called once, when the connection is aborted (the session stops).
    on_abort: Option<Box<dyn FnOnce()>>,
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
            .field("queued", &self.state.borrow().frames.len())
            .finish_non_exhaustive()
    }
}

impl Queue {
    pub(crate) fn new(key: u64, id: ConnectionId, user: Option<Arc<str>>, bounds: Bounds) -> Self {
        Self {
            key,
            id,
            user,
            condition: Arc::default(),
            bounds,
            state: RefCell::default(),
            channels: RefCell::default(),
            taken: Cell::new(0),
            stall: Cell::default(),
        }
    }

    /// Queues a frame; a queue past its bounds closes the connection with 4008.
    pub(crate) fn push(&self, frame: &LocalFrame) -> Result<(), Undeliverable> {
        let mut state = self.state.borrow_mut();
        if state.close.is_some() {
            return Err(Undeliverable::Closed);
        }
        let bytes = state.bytes + frame.len();
        if state.frames.len() >= self.bounds.frames || bytes > self.bounds.bytes {
            // The client is not reading: free what waits for it and say goodbye.
            state.frames = VecDeque::new();
            state.bytes = 0;
            state.close = Some(CloseCode::SlowConsumer.into());
            self.condition.set(Condition::SLOW);
            wake(&state);
            return Err(Undeliverable::SlowConsumer);
        }
        state.bytes = bytes;
        state.frames.push_back(frame.clone());
        if state.frames.len() == 1 {
            wake(&state);
        }
        Ok(())
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
        wake(&state);
        true
    }

    /// True once a close was asked for.
    pub(crate) fn is_closing(&self) -> bool {
        self.state.borrow().close.is_some()
    }

    /// Runs `f` if the connection is aborted (see [`Self::abort`]).
    pub(crate) fn on_abort(&self, f: impl FnOnce() + 'static) {
        self.state.borrow_mut().on_abort = Some(Box::new(f));
    }

    /// Gives the connection up: queued frames are freed, nothing more is written, and
    /// the session is told to stop (the kernel resets the TCP connection itself, see
    /// [`super::socket`]).
    pub(crate) fn abort(&self) {
        let on_abort = {
            let mut state = self.state.borrow_mut();
            state.frames = VecDeque::new();
            state.bytes = 0;
            state.closed = true;
            if state.close.is_none() {
                // Never sent (nothing more is written); it marks the queue closed.
                state.close = Some(CloseCode::Normal.into());
            }
            self.condition.set(Condition::CLOSING);
            wake(&state);
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
            !state.writer_gone && (!state.frames.is_empty() || state.close.is_some())
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

    /// Appends what is queued to `buf`, up to about [`BATCH_BYTES`] (the dispatcher asks
    /// again at once while its own buffer has room), or says the close frame is due
    /// once everything queued has gone.
    pub(super) fn take(&self, buf: &mut BytesMut, waker: &Waker) -> Taken {
        let mut state = self.state.borrow_mut();
        if !state.frames.is_empty() {
            buf.reserve(state.bytes.min(BATCH_BYTES));
            let mut taken = 0;
            while let Some(frame) = state.frames.pop_front() {
                buf.extend_from_slice(&frame);
                state.bytes -= frame.len();
                taken += 1;
                if buf.len() >= BATCH_BYTES {
                    break;
                }
            }
            self.taken.set(self.taken.get() + taken);
            if state.frames.is_empty() && state.frames.capacity() > RETAINED_CAPACITY {
                state.frames = VecDeque::new(); // a burst does not pin memory once idle
            }
            return Taken::Frames;
        }
        if state.closed {
            return Taken::Finished;
        }
        if let Some(reason) = state.close.clone() {
            state.closed = true;
            self.taken.set(self.taken.get() + 1);
            return Taken::Close(reason);
        }
        if !state.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            state.waker = Some(waker.clone());
        }
        Taken::Nothing
    }

    pub(super) fn writer_gone(&self) {
        let mut state = self.state.borrow_mut();
        state.writer_gone = true;
        state.closed = true;
        state.frames = VecDeque::new();
        state.bytes = 0;
        state.waker = None;
        self.condition.set(Condition::CLOSING);
    }
}

/// A queue whose deque grew past this many slots is given back its memory once drained.
const RETAINED_CAPACITY: usize = 64;

/// Bytes handed to the dispatcher per poll: small enough that the writer's buffer is
/// reused while still in the core's cache (the dispatcher copies it out and drops it
/// before asking again), large enough to cost one poll per several frames.
const BATCH_BYTES: usize = 8 * 1024;

fn wake(state: &State) {
    if let Some(waker) = &state.waker {
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

    fn queue(frames: usize, bytes: usize) -> Queue {
        Queue::new(1, ConnectionId::from("n-1"), None, Bounds { frames, bytes })
    }

    fn frame() -> LocalFrame {
        WireFrame::text(&Frame::from_static(r#"{"event":"x","data":{}}"#)).to_local()
    }

    #[test]
    fn the_queue_holds_exactly_its_frame_bound_then_closes_with_4008() {
        let q = queue(3, 1 << 20);
        for _ in 0..3 {
            assert_eq!(q.push(&frame()), Ok(()));
        }
        assert_eq!(q.push(&frame()), Err(Undeliverable::SlowConsumer));
        assert!(q.is_closing());
        assert_eq!(q.condition.check(), Err(Undeliverable::SlowConsumer));
        // Closed for good, and what waited is freed.
        assert_eq!(q.push(&frame()), Err(Undeliverable::Closed));
        assert!(q.state.borrow().frames.is_empty());
    }

    #[test]
    fn the_byte_bound_closes_too() {
        let one = frame().len();
        let q = queue(100, one * 2);
        assert_eq!(q.push(&frame()), Ok(()));
        assert_eq!(q.push(&frame()), Ok(()));
        assert_eq!(q.push(&frame()), Err(Undeliverable::SlowConsumer));
    }

    #[test]
    fn the_first_close_reason_wins() {
        let q = queue(1, 1 << 20);
        assert!(q.close(CloseCode::HeartbeatTimeout.into()));
        assert!(!q.close(CloseCode::Normal.into()));
        let reason = q.state.borrow().close.clone().expect("set");
        assert_eq!(u16::from(reason.code), 4000);
    }

    #[test]
    fn a_queue_is_stalled_only_after_the_timeout_without_progress() {
        let q = queue(8, 1 << 20);
        let timeout = std::time::Duration::from_secs(10);
        let t0 = Instant::now();
        assert!(!q.stalled(t0, timeout), "nothing waits");
        q.push(&frame()).expect("queued");
        assert!(!q.stalled(t0, timeout), "first look starts the clock");
        assert!(!q.stalled(t0 + timeout / 2, timeout));
        assert!(q.stalled(t0 + timeout, timeout));
        let waker = futures_util::task::noop_waker();
        let mut buf = BytesMut::new();
        assert!(matches!(q.take(&mut buf, &waker), Taken::Frames));
        assert_eq!(buf.len(), frame().len());
        assert!(!q.stalled(t0 + timeout * 2, timeout), "progress resets it");
    }
}
