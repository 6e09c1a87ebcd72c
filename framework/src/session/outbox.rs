//! The bounded outbound path of one connection.
//!
//! Senders anywhere (a broadcast on another worker thread, the session itself) push
//! frames into the [`Outbox`] without waiting; a [`Writer`] task drains it into the
//! socket. The writer lives outside the session actor on purpose: a close frame is
//! written and flushed even after the actor has decided to stop (stopping an actor
//! right after writing a close frame would cancel the flush).
//!
//! Memory per connection is bounded by `limits.outbound_queue` frames here, plus the
//! 32 frames actix-ws buffers between the writer and the socket. When the queue is
//! full the client is not reading; it is closed with 4008 and its frames are dropped.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_ws::{CloseReason, Message};
use futures_util::SinkExt;
use tokio::sync::{Notify, mpsc};

use crate::metrics::Metrics;
use crate::protocol::{CloseCode, Frame};

/// How many frames the writer hands to the socket before one flush.
const WRITE_BATCH: usize = 64;
/// How long the writer waits for a close frame to be accepted by a client that may
/// never read again, before it drops the connection.
const CLOSE_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

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
    metrics: Arc<Metrics>,
}

/// The first close reason wins; later ones are ignored.
#[derive(Debug, Default)]
struct CloseSignal {
    reason: OnceLock<CloseReason>,
    wake: Notify,
}

/// The receiving side, run once per connection by [`Writer::run`].
#[derive(Debug)]
pub(crate) struct Writer {
    frames: mpsc::Receiver<Message>,
    close: Arc<CloseSignal>,
    metrics: Arc<Metrics>,
}

/// A queue of `capacity` frames and the writer that drains it.
pub(crate) fn outbox(capacity: usize, metrics: Arc<Metrics>) -> (Outbox, Writer) {
    let (tx, rx) = mpsc::channel(capacity);
    let close = Arc::new(CloseSignal::default());
    (
        Outbox {
            frames: tx,
            close: close.clone(),
            metrics: metrics.clone(),
        },
        Writer {
            frames: rx,
            close,
            metrics,
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
            self.close.wake.notify_one();
        }
        first
    }

    /// The server's counters.
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// True once a close was asked for.
    pub(crate) fn is_closing(&self) -> bool {
        self.close.reason.get().is_some()
    }
}

impl Writer {
    /// Writes queued frames in batches (one flush per batch) until a close is asked for
    /// or every [`Outbox`] is gone, then sends the close frame.
    pub(crate) async fn run(mut self, mut ws: actix_ws::Session) {
        let mut batch = Vec::with_capacity(WRITE_BATCH);
        loop {
            let received = tokio::select! {
                biased;
                () = self.close.wake.notified() => break,
                n = self.frames.recv_many(&mut batch, WRITE_BATCH) => n,
            };
            if received == 0 {
                break; // every sender is gone: the session has ended
            }
            self.metrics.packets_out(received);
            let write = async {
                for message in batch.drain(..) {
                    ws.feed(message).await?;
                }
                ws.flush().await
            };
            // A client that stopped reading blocks the write; a close must still get through.
            let written = tokio::select! {
                biased;
                () = self.close.wake.notified() => break,
                written = write => written,
            };
            if written.is_err() {
                return; // the connection is gone; nothing more can be written
            }
        }
        let reason = self
            .close
            .reason
            .get()
            .cloned()
            .unwrap_or_else(|| CloseCode::Normal.into());
        self.frames.close();
        let slow_consumer = u16::from(reason.code) == u16::from(CloseCode::SlowConsumer);
        let finish = async {
            if slow_consumer {
                // The client does not read: free what is queued instead of waiting on it.
                batch.clear();
                while self.frames.try_recv().is_ok() {}
            } else {
                // Anything queued before the close (a last message, a shutdown notice)
                // still goes out first, in order.
                while let Ok(message) = self.frames.try_recv() {
                    batch.push(message);
                }
                for message in batch.drain(..) {
                    ws.feed(message).await?;
                }
                ws.flush().await?;
            }
            ws.close(Some(reason)).await
        };
        // An error or timeout here means the peer is gone or not reading: either way, done.
        let _ = tokio::time::timeout(CLOSE_FLUSH_TIMEOUT, finish).await;
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
        let (outbox, writer) = outbox(1, Arc::default());
        assert!(outbox.close(CloseCode::HeartbeatTimeout.into()));
        assert!(!outbox.close(CloseCode::Normal.into()));
        let reason = writer.close.reason.get().cloned().expect("set");
        assert_eq!(u16::from(reason.code), 4000);
    }
}
