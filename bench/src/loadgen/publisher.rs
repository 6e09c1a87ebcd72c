//! A publisher: sends stamped messages at a fixed rate, or as fast as the server
//! accepts them with a bounded number in flight.

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

use super::client::Ws;
use super::{Pace, Workload};
use crate::Target;
use crate::payload::{self, Stamp};

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
pub async fn run(ws: Ws, plan: Plan, stop: watch::Receiver<bool>) -> Finished {
    let (mut sink, stream) = ws.split();
    let window = match plan.pace {
        Pace::Window(window) => window,
        Pace::Rate(_) => 0,
    };
    let permits = Arc::new(Semaphore::new(window));
    let reader = tokio::spawn(read_answers(stream, plan.clone(), permits.clone(), stop));

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
            None => match permits.clone().try_acquire_owned() {
                Ok(permit) => permit.forget(),
                Err(_) => {
                    // Window full: push out what is buffered, then wait for an answer.
                    if sink.flush().await.is_err() {
                        break;
                    }
                    tokio::select! {
                        permit = permits.clone().acquire_owned() => match permit {
                            Ok(permit) => permit.forget(),
                            Err(_) => break,
                        },
                        () = tokio::time::sleep_until(deadline) => break,
                    }
                }
            },
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

/// Reads what comes back: each of its own messages (broadcast) or each ack (routed)
/// frees one place in the window.
async fn read_answers(
    mut stream: SplitStream<Ws>,
    plan: Plan,
    permits: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let frame = tokio::select! {
            biased;
            _ = stop.changed() => break,
            frame = stream.next() => frame,
        };
        let Some(Ok(message)) = frame else { break };
        let Message::Text(text) = message else {
            continue;
        };
        let answered = match plan.workload {
            Workload::Routed => payload::is_ack(plan.target, &text),
            _ => payload::read_stamp(&text).is_some_and(|s| s.publisher == plan.index),
        };
        if answered {
            permits.add_permits(1);
        }
    }
}
