//! A publisher: sends stamped messages at a fixed rate, or as fast as the server
//! delivers them with a bounded number in flight.
//!
//! "In flight" counts deliveries, not answers: a publisher's own copy (or an ack)
//! comes back as soon as the server has handled the message, while the other
//! subscribers may still be far behind, so pacing on answers would let queues grow
//! without bound. Here all publishers together keep at most `publishers x window`
//! messages' worth of deliveries outstanding, summed over every subscriber.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

use super::client::Ws;
use super::subscriber::Shared;
use super::{Pace, Workload};
use crate::Target;
use crate::payload::{self, Stamp};

/// How often a publisher whose window is full looks again.
const WINDOW_POLL: Duration = Duration::from_millis(1);

/// What one publisher does.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Its index, carried in every message.
    pub index: u32,
    /// The server it talks to.
    pub target: Target,
    /// Where its messages go.
    pub workload: Workload,
    /// How fast.
    pub pace: Pace,
    /// For how long.
    pub duration: Duration,
    /// Routed: how many subscribers (`user:chat.0..N`) messages are spread over.
    pub route_among: usize,
    /// Deliveries one message makes (the connected subscribers, or 1 when routed).
    pub fanout: u64,
    /// Publishers sharing the window.
    pub publishers: u64,
}

impl Plan {
    /// True while fewer than `publishers x window` messages are not yet delivered.
    fn has_room(&self, shared: &Shared, window: usize) -> bool {
        let sent = shared.sent.load(Ordering::Relaxed);
        let delivered = shared.delivered.load(Ordering::Relaxed);
        let outstanding = (sent * self.fanout).saturating_sub(delivered);
        outstanding < self.publishers * window as u64 * self.fanout
    }
}

/// A publisher that has finished sending; its connection stays open until the run ends.
#[derive(Debug)]
pub struct Finished {
    /// Messages sent, numbered `0..sent`.
    pub sent: u64,
    /// Kept open so the server sees no disconnect while it is still delivering.
    _sink: SplitSink<Ws, Message>,
    _reader: JoinHandle<()>,
}

/// Sends for `plan.duration`, then returns how many it sent.
pub async fn run(ws: Ws, plan: Plan, shared: Arc<Shared>, stop: watch::Receiver<bool>) -> Finished {
    let (mut sink, stream) = ws.split();
    let reader = tokio::spawn(drain(stream, stop));

    let deadline = Instant::now() + plan.duration;
    let mut ticks = match plan.pace {
        Pace::Rate(rate) => {
            let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
            Some(ticks)
        }
        Pace::Window(_) => None,
    };
    let mut seq = 0u64;
    while Instant::now() < deadline {
        match &mut ticks {
            Some(ticks) => {
                tokio::select! {
                    _ = ticks.tick() => {}
                    () = tokio::time::sleep_until(deadline) => break,
                }
            }
            None => {
                let Pace::Window(window) = plan.pace else {
                    unreachable!("no ticks means a window")
                };
                if !plan.has_room(&shared, window) {
                    // Window full: push out what is buffered, then wait for deliveries.
                    if sink.flush().await.is_err() {
                        break;
                    }
                    while !plan.has_room(&shared, window) && Instant::now() < deadline {
                        tokio::time::sleep(WINDOW_POLL).await;
                    }
                    if Instant::now() >= deadline {
                        break;
                    }
                }
            }
        }
        let frame = frame(&plan, seq);
        let written = if ticks.is_some() {
            sink.send(Message::text(frame)).await
        } else {
            sink.feed(Message::text(frame)).await
        };
        if written.is_err() {
            break;
        }
        shared.sent.fetch_add(1, Ordering::Relaxed);
        seq += 1;
    }
    let _ = sink.flush().await;
    Finished {
        sent: seq,
        _sink: sink,
        _reader: reader,
    }
}

fn frame(plan: &Plan, seq: u64) -> String {
    let stamp = Stamp {
        publisher: plan.index,
        seq,
        sent_at_ns: payload::now_ns(),
    };
    match plan.workload {
        Workload::Broadcast | Workload::Idle => {
            payload::broadcast_frame(payload::BROADCAST_CHANNEL, &stamp)
        }
        Workload::Routed => {
            let to = payload::route_target(plan.index, seq, plan.route_among);
            payload::routed_frame(plan.target, &payload::user_channel(to), &stamp)
        }
    }
}

/// Reads and drops what comes back (its own copies, acks), so the server never
/// blocks writing to a publisher.
async fn drain(mut stream: SplitStream<Ws>, mut stop: watch::Receiver<bool>) {
    loop {
        let frame = tokio::select! {
            biased;
            _ = stop.changed() => break,
            frame = stream.next() => frame,
        };
        if !matches!(frame, Some(Ok(_))) {
            break;
        }
    }
}
