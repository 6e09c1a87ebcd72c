//! A publisher: sends stamped messages at a fixed rate, or as fast as the server
//! delivers them with a bounded number in flight.
//!
//! "In flight" counts deliveries, not answers: a publisher's own copy (or an ack)
//! comes back as soon as the server has handled the message, while the other
//! subscribers may still be far behind, so pacing on answers would let queues grow
//! without bound. Broadcast: each publisher keeps at most `window` messages in flight
//! to the slowest subscriber ([`super::window`]). Routed: all publishers together keep
//! at most `publishers x window` routed messages undelivered.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::shared::Shared;
use super::{Pace, Workload};
use crate::Target;
use crate::payload::{self, Stamp};
use crate::wire::Opcode;
use crate::wire::client::{Client, FrameReader, FrameWriter};

/// How often a publisher whose window is full looks again.
const WINDOW_POLL: Duration = Duration::from_millis(1);
/// Bytes buffered before a write, when the window lets many messages go at once.
const WRITE_BATCH: usize = 16 * 1024;

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
    /// Publishers sharing the routed window.
    pub publishers: u64,
}

impl Plan {
    /// True while message `seq` may go out under a window of `window`.
    fn has_room(&self, shared: &Shared, seq: u64, window: usize) -> bool {
        match self.workload {
            Workload::Routed => {
                let sent = shared.sent.load(Ordering::Relaxed);
                let delivered = shared.delivered.load(Ordering::Relaxed);
                sent.saturating_sub(delivered) < self.publishers * window as u64
            }
            Workload::Broadcast | Workload::Idle => shared.window.may_send(self.index, seq),
        }
    }
}

/// A publisher that has finished sending; its connection stays open until the run ends.
#[derive(Debug)]
pub struct Finished {
    /// Messages sent, numbered `0..sent`.
    pub sent: u64,
    /// Kept open so the server sees no disconnect while it is still delivering.
    _writer: FrameWriter<OwnedWriteHalf>,
    reader: JoinHandle<()>,
}

impl Drop for Finished {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Sends for `plan.duration`, then returns how many it sent.
pub async fn run(client: Client, plan: Plan, shared: Arc<Shared>) -> Finished {
    let Client { reader, mut writer } = client;
    let reader = tokio::spawn(drain(reader));
    let deadline = Instant::now() + plan.duration;
    let sent = match plan.pace {
        Pace::Rate(rate) => at_rate(&mut writer, &plan, &shared, rate, deadline).await,
        Pace::Window(window) => windowed(&mut writer, &plan, &shared, window, deadline).await,
    };
    Finished {
        sent,
        _writer: writer,
        reader,
    }
}

/// One message per tick, each written at once (open loop).
async fn at_rate(
    writer: &mut FrameWriter<OwnedWriteHalf>,
    plan: &Plan,
    shared: &Shared,
    rate: f64,
    deadline: Instant,
) -> u64 {
    let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut seq = 0;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = tokio::time::sleep_until(deadline) => break,
        }
        if writer
            .send(Opcode::Text, frame(plan, seq).as_bytes())
            .await
            .is_err()
        {
            break;
        }
        shared.sent.fetch_add(1, Ordering::Relaxed);
        seq += 1;
    }
    seq
}

/// As many messages as the window allows, written together; then wait for room.
async fn windowed(
    writer: &mut FrameWriter<OwnedWriteHalf>,
    plan: &Plan,
    shared: &Shared,
    window: usize,
    deadline: Instant,
) -> u64 {
    let mut seq = 0;
    while Instant::now() < deadline {
        while writer.buffered() < WRITE_BATCH && plan.has_room(shared, seq, window) {
            writer.push(Opcode::Text, frame(plan, seq).as_bytes());
            shared.sent.fetch_add(1, Ordering::Relaxed);
            seq += 1;
        }
        if writer.buffered() == 0 {
            tokio::time::sleep(WINDOW_POLL).await;
        } else if writer.flush().await.is_err() {
            break;
        }
    }
    seq
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
async fn drain(mut reader: FrameReader<OwnedReadHalf>) {
    while reader.fill().await.is_ok() {
        loop {
            match reader.next_frame() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}
