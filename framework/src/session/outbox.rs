//! The bounded outbound path of one connection.
//!
//! Senders anywhere (a broadcast on another worker thread, the session itself) push
//! frames into the [`Outbox`] without waiting. The [`Writer`] is the WebSocket
//! response's body: the HTTP dispatcher that owns the socket polls it, and each poll
//! drains up to a batch of queued frames, encodes them into one buffer and hands that
//! over, so a batch costs one write and one flush, and a frame crosses one queue only.
//! The writer lives outside the session actor on purpose: a close frame is written
//! and flushed even after the actor has decided to stop (stopping an actor right after
//! writing a close frame would cancel the flush).
//!
//! Memory per connection is bounded by `limits.outbound_queue` frames here. When the
//! queue is full the client is not reading; it is closed with 4008 and its frames are
//! dropped.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll};

use actix_http::ws::{OpCode, Parser};
use actix_web::body::{BodySize, MessageBody};
use actix_web::web::{Bytes, BytesMut};
use actix_ws::{CloseReason, Message};
use futures_util::task::AtomicWaker;

use crate::metrics::Metrics;
use crate::protocol::{CloseCode, Frame};

/// A drained batch buffer larger than this is released rather than kept for the next
/// batch, so a burst does not pin memory on a connection that then goes quiet.
const KEEP_BATCH_CAPACITY: usize = 64;

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Undeliverable {
    /// The queue was full; the connection is being closed with 4008.
    SlowConsumer,
    /// The connection is closing or gone.
    Closed,
}

/// The sending side; cheap to clone, `Send + Sync`.
#[derive(Debug)]
pub(crate) struct Outbox {
    queue: Arc<Queue>,
}

/// What the outboxes and the writer share.
///
/// A plain locked deque: it allocates nothing until a frame is queued (an idle
/// connection costs a few words), a push is one uncontended lock, and the writer takes
/// everything queued in one swap. The writer is woken only when the queue goes from
/// empty to not empty.
#[derive(Debug)]
struct Queue {
    frames: Mutex<Frames>,
    capacity: usize,
    /// The writer's waker.
    wake: AtomicWaker,
    /// Outboxes alive; at zero the session has ended and the writer closes.
    senders: AtomicUsize,
    /// The first close reason wins; later ones are ignored.
    reason: OnceLock<CloseReason>,
    /// The server's counters (frames written).
    metrics: Arc<Metrics>,
}

#[derive(Debug)]
struct Frames {
    queued: VecDeque<Message>,
    /// False once the writer is gone: nothing more is accepted.
    open: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Frames> {
        // A panic while holding this lock cannot leave the deque inconsistent.
        self.frames.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The receiving side: the body of the WebSocket response.
pub(crate) struct Writer {
    queue: Arc<Queue>,
    /// Swapped with the queue's deque on each poll, so frames are encoded unlocked.
    batch: VecDeque<Message>,
    buf: BytesMut,
    /// The close frame is encoded: nothing more will be.
    done: bool,
    /// Runs once the writer is dropped: everything is written, or the socket is gone.
    on_finish: Option<Box<dyn FnOnce()>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// A queue of `capacity` frames and the writer that drains it.
pub(crate) fn outbox(capacity: usize, metrics: Arc<Metrics>) -> (Outbox, Writer) {
    let queue = Arc::new(Queue {
        frames: Mutex::new(Frames {
            queued: VecDeque::new(),
            open: true,
        }),
        capacity,
        wake: AtomicWaker::new(),
        senders: AtomicUsize::new(1),
        reason: OnceLock::new(),
        metrics,
    });
    let writer = Writer {
        queue: queue.clone(),
        batch: VecDeque::new(),
        buf: BytesMut::new(),
        done: false,
        on_finish: None,
    };
    (Outbox { queue }, writer)
}

impl Clone for Outbox {
    fn clone(&self) -> Self {
        self.queue.senders.fetch_add(1, Ordering::Relaxed);
        Self {
            queue: self.queue.clone(),
        }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        if self.queue.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.queue.wake.wake(); // the last one: the writer closes the connection
        }
    }
}

impl Outbox {
    /// Queues a text frame.
    pub(crate) fn push(&self, frame: Frame) -> Result<(), Undeliverable> {
        self.push_message(Message::Text(frame.into_inner()))
    }

    /// Queues any WebSocket message; a full queue closes the connection with 4008.
    pub(crate) fn push_message(&self, message: Message) -> Result<(), Undeliverable> {
        if self.is_closing() {
            return Err(Undeliverable::Closed);
        }
        let mut frames = self.queue.lock();
        if !frames.open {
            return Err(Undeliverable::Closed);
        }
        if frames.queued.len() >= self.queue.capacity {
            drop(frames);
            self.close(CloseCode::SlowConsumer.into());
            return Err(Undeliverable::SlowConsumer);
        }
        let was_empty = frames.queued.is_empty();
        frames.queued.push_back(message);
        drop(frames);
        if was_empty {
            self.queue.wake.wake();
        }
        Ok(())
    }

    /// Asks the writer to send a close frame and finish. Returns false when a close
    /// was already asked for.
    pub(crate) fn close(&self, reason: CloseReason) -> bool {
        let first = self.queue.reason.set(reason).is_ok();
        if first {
            self.queue.wake.wake();
        }
        first
    }

    /// The server's counters.
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.queue.metrics
    }

    /// True once a close was asked for.
    pub(crate) fn is_closing(&self) -> bool {
        self.queue.reason.get().is_some()
    }
}

impl Writer {
    /// Runs `f` once the writer is dropped (written out, or the connection is gone).
    pub(crate) fn on_finish(mut self, f: impl FnOnce() + 'static) -> Self {
        self.on_finish = Some(Box::new(f));
        self
    }

    /// Appends one server frame (never masked) to the buffer.
    fn encode(&mut self, message: Message) {
        let (payload, op) = match message {
            Message::Text(text) => (text.into_bytes(), OpCode::Text),
            Message::Binary(bytes) => (bytes, OpCode::Binary),
            Message::Ping(bytes) => (bytes, OpCode::Ping),
            Message::Pong(bytes) => (bytes, OpCode::Pong),
            Message::Close(reason) => return Parser::write_close(&mut self.buf, reason, false),
            // The outbox carries whole messages only.
            Message::Continuation(_) | Message::Nop => return,
        };
        Parser::write_message(&mut self.buf, payload, op, true, false);
    }

    /// Stops accepting and encodes the close frame. What is still queued goes out
    /// first (a last message, a shutdown notice), except for a client closed for not
    /// reading (4008): its queue is freed instead of waited on.
    fn finish(&mut self) {
        let queued = {
            let mut frames = self.queue.lock();
            frames.open = false;
            std::mem::take(&mut frames.queued)
        };
        let reason = self
            .queue
            .reason
            .get()
            .cloned()
            .unwrap_or_else(|| CloseCode::Normal.into());
        if u16::from(reason.code) != u16::from(CloseCode::SlowConsumer) {
            self.queue.metrics.packets_out(queued.len());
            for message in queued {
                self.encode(message);
            }
        }
        self.encode(Message::Close(Some(reason)));
        self.done = true;
    }
}

impl MessageBody for Writer {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        // Registered before looking, so a push or close after the look wakes us.
        this.queue.wake.register(cx.waker());
        if this.queue.reason.get().is_some() {
            this.finish();
        } else {
            std::mem::swap(&mut this.queue.lock().queued, &mut this.batch);
            let mut batch = std::mem::take(&mut this.batch);
            this.queue.metrics.packets_out(batch.len());
            for message in batch.drain(..) {
                this.encode(message);
            }
            if batch.capacity() <= KEEP_BATCH_CAPACITY {
                this.batch = batch;
            }
            if this.buf.is_empty() && this.queue.senders.load(Ordering::Acquire) == 0 {
                this.finish(); // every outbox is gone: the session has ended
            }
        }
        if this.buf.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(Some(Ok(this.buf.split().freeze())))
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.queue.lock().open = false;
        if let Some(f) = self.on_finish.take() {
            f();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        Frame::from_static(r#"{"event":"x","data":{}}"#)
    }

    #[test]
    fn the_queue_holds_exactly_its_capacity_then_closes_with_4008() {
        let (outbox, writer) = outbox(3, Arc::default());
        for _ in 0..3 {
            assert_eq!(outbox.push(frame()), Ok(()));
        }
        assert_eq!(outbox.push(frame()), Err(Undeliverable::SlowConsumer));
        assert!(outbox.is_closing());
        let reason = writer
            .queue
            .reason
            .get()
            .cloned()
            .expect("close reason set");
        assert_eq!(u16::from(reason.code), 4008);
        // Closed for good: nothing more is queued, so memory stops growing.
        assert_eq!(outbox.push(frame()), Err(Undeliverable::Closed));
        assert_eq!(writer.queue.lock().queued.len(), 3);
    }

    #[test]
    fn the_first_close_reason_wins() {
        let (outbox, writer) = outbox(1, Arc::default());
        assert!(outbox.close(CloseCode::HeartbeatTimeout.into()));
        assert!(!outbox.close(CloseCode::Normal.into()));
        let reason = writer.queue.reason.get().cloned().expect("set");
        assert_eq!(u16::from(reason.code), 4000);
    }

    #[test]
    fn the_writer_closes_normally_once_every_outbox_is_gone() {
        let (outbox, mut writer) = outbox(4, Arc::default());
        let copy = outbox.clone();
        assert_eq!(copy.push(frame()), Ok(()));
        drop(outbox);
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let first = Pin::new(&mut writer).poll_next(&mut cx);
        assert!(
            matches!(first, Poll::Ready(Some(Ok(ref b))) if b.len() > 2),
            "the frame"
        );
        assert!(Pin::new(&mut writer).poll_next(&mut cx).is_pending());
        drop(copy);
        let Poll::Ready(Some(Ok(close))) = Pin::new(&mut writer).poll_next(&mut cx) else {
            panic!("a close frame");
        };
        assert_eq!(close[0], 0x88, "FIN + close opcode");
        assert_eq!(&close[2..4], &1000u16.to_be_bytes());
        assert!(matches!(
            Pin::new(&mut writer).poll_next(&mut cx),
            Poll::Ready(None)
        ));
    }
}
