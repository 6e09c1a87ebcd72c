//! A subscriber's receive loop.
//!
//! Per `read` (up to a buffer's worth of frames): one clock read, one lock of its own
//! tracker, one add to the shared delivery counter, one record into the thread's
//! latency histogram. Per frame: the frame header, a byte search for the stamp from
//! the end, a bit in a bitmap. No JSON, no allocation.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use super::shared::Shared;
use super::tracker::Tracker;
use crate::payload::{self, PING, PONG};
use crate::wire::Opcode;
use crate::wire::client::Client;

/// A subscriber's tracker, read by the run once the subscriber has stopped.
pub type SharedTracker = Arc<Mutex<Tracker>>;

/// Locks a tracker (a panic elsewhere does not hide what it recorded).
pub fn lock(tracker: &SharedTracker) -> std::sync::MutexGuard<'_, Tracker> {
    tracker.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Receives until the run stops (the task is then aborted) or the connection ends,
/// answering heartbeats.
pub async fn receive(client: Client, tracker: SharedTracker, shared: Arc<Shared>) {
    let Client {
        mut reader,
        mut writer,
    } = client;
    let mut latencies_us: Vec<u64> = Vec::new();
    loop {
        let filled = reader.fill().await;
        if shared.stopped.load(Ordering::Relaxed) {
            return;
        }
        let mut ended = filled.is_err();
        let now = payload::now_ns();
        let mut delivered = 0;
        let (mut pong, mut ws_pong) = (false, None);
        {
            let mut tracker = lock(&tracker);
            loop {
                match reader.next_frame() {
                    Ok(Some((Opcode::Text, text))) => {
                        if let Some(stamp) = payload::read_stamp(text) {
                            let count = tracker.record(stamp, now);
                            shared.window.received(stamp.publisher, count);
                            latencies_us.push(now.saturating_sub(stamp.sent_at_ns) / 1000);
                            delivered += 1;
                        } else if text == PING.as_bytes() {
                            pong = true;
                        }
                    }
                    Ok(Some((Opcode::Ping, data))) => ws_pong = Some(data.to_vec()),
                    Ok(Some((Opcode::Close, _))) | Err(_) => {
                        ended = true;
                        break;
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                }
            }
        }
        shared.latencies.record(&latencies_us);
        latencies_us.clear();
        if delivered > 0 {
            shared.delivered.fetch_add(delivered, Ordering::Relaxed);
            shared.reads.fetch_add(1, Ordering::Relaxed);
        }
        if pong {
            ended |= writer.send(Opcode::Text, PONG.as_bytes()).await.is_err();
        }
        if let Some(data) = ws_pong {
            ended |= writer.send(Opcode::Pong, &data).await.is_err();
        }
        if ended {
            if !shared.stopped.load(Ordering::Relaxed) {
                shared.closed_early.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
    }
}
