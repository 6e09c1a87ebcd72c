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

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use actix_http::ws::{OpCode, Parser};
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::web::{Bytes, BytesMut};
use actix_ws::{CloseReason, Message};
use futures_util::task::AtomicWaker;
use tokio::sync::mpsc;

use crate::protocol::{CloseCode, Frame};

/// How many frames the writer encodes into one chunk before handing it over.
const WRITE_BATCH: usize = 64;

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Undeliverable {
    /// The queue was full; the connection is being closed with 4008.
    SlowConsumer,
    /// The connection is closing or gone.
    Closed,
}

/// The sending side; cheap to clone, `Send + Sync`.
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    frames: mpsc::Sender<Message>,
    close: Arc<CloseSignal>,
}

/// The first close reason wins; later ones are ignored.
#[derive(Debug, Default)]
struct CloseSignal {
    reason: OnceLock<CloseReason>,
    wake: AtomicWaker,
}

/// The receiving side: the body of the WebSocket response.
pub(crate) struct Writer {
    frames: mpsc::Receiver<Message>,
    close: Arc<CloseSignal>,
    buf: BytesMut,
    /// The close frame is encoded: nothing more will be.
    done: bool,
    /// actix-ws's own response body, never polled: dropping it with this writer tells
    /// the read side (`MessageStream`) that the connection is gone.
    upstream: Option<BoxBody>,
    /// Runs once the writer is dropped: everything is written, or the socket is gone.
    on_finish: Option<Box<dyn FnOnce()>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("queued", &self.frames.len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// A queue of `capacity` frames and the writer that drains it.
pub(crate) fn outbox(capacity: usize) -> (Outbox, Writer) {
    let (tx, rx) = mpsc::channel(capacity);
    let close = Arc::new(CloseSignal::default());
    (
        Outbox {
            frames: tx,
            close: close.clone(),
        },
        Writer {
            frames: rx,
            close,
            buf: BytesMut::new(),
            done: false,
            upstream: None,
            on_finish: None,
        },
    )
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
        match self.frames.try_send(message) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.close(CloseCode::SlowConsumer.into());
                Err(Undeliverable::SlowConsumer)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Undeliverable::Closed),
        }
    }

    /// Asks the writer to send a close frame and finish. Returns false when a close
    /// was already asked for.
    pub(crate) fn close(&self, reason: CloseReason) -> bool {
        let first = self.close.reason.set(reason).is_ok();
        if first {
            self.close.wake.wake();
        }
        first
    }

    /// True once a close was asked for.
    pub(crate) fn is_closing(&self) -> bool {
        self.close.reason.get().is_some()
    }
}

impl Writer {
    /// Keeps actix-ws's response body alive as long as this writer (see `upstream`).
    pub(crate) fn replacing(mut self, upstream: BoxBody) -> Self {
        self.upstream = Some(upstream);
        self
    }

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

    /// Drops what is still queued (a client that is being closed may never read it)
    /// and encodes the close frame, after what is already encoded.
    fn finish(&mut self) {
        self.frames.close();
        while self.frames.try_recv().is_ok() {}
        let reason = self
            .close
            .reason
            .get()
            .cloned()
            .unwrap_or_else(|| CloseCode::Normal.into());
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
        this.close.wake.register(cx.waker());
        if this.close.reason.get().is_some() {
            this.finish();
        } else {
            for _ in 0..WRITE_BATCH {
                match this.frames.poll_recv(cx) {
                    Poll::Ready(Some(message)) => this.encode(message),
                    // Every sender is gone: the session has ended.
                    Poll::Ready(None) => {
                        this.finish();
                        break;
                    }
                    Poll::Pending => break,
                }
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
        drop(self.upstream.take());
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
        let (outbox, writer) = outbox(3);
        for _ in 0..3 {
            assert_eq!(outbox.push(frame()), Ok(()));
        }
        assert_eq!(outbox.push(frame()), Err(Undeliverable::SlowConsumer));
        assert!(outbox.is_closing());
        let reason = writer
            .close
            .reason
            .get()
            .cloned()
            .expect("close reason set");
        assert_eq!(u16::from(reason.code), 4008);
        // Closed for good: nothing more is queued, so memory stops growing.
        assert_eq!(outbox.push(frame()), Err(Undeliverable::Closed));
        assert_eq!(writer.frames.len(), 3);
    }

    #[test]
    fn the_first_close_reason_wins() {
        let (outbox, writer) = outbox(1);
        assert!(outbox.close(CloseCode::HeartbeatTimeout.into()));
        assert!(!outbox.close(CloseCode::Normal.into()));
        let reason = writer.close.reason.get().cloned().expect("set");
        assert_eq!(u16::from(reason.code), 4000);
    }
}
