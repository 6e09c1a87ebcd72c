//! The load generator: opens subscribers, runs publishers, measures.
//!
//! A run goes: read the server's idle memory; open `subscribers` connections (at most
//! `connect_concurrency` handshakes at once, optionally paced) and subscribe each;
//! open the publishers; settle; read memory again; publish for `duration`; wait until
//! every expected delivery arrived (or `drain_timeout`); tell the subscribers to stop
//! and count what each one received. Every phase has a deadline, so a run always ends.

pub mod client;
pub mod publisher;
pub mod subscriber;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::Target;
use crate::payload::{self, BROADCAST_CHANNEL};
use crate::proc;
use crate::report::{Latency, Report};
use crate::token::Minter;
use client::Ws;
use subscriber::{Expect, Shared, Tracker};

/// Longest the connect phase may take, whatever the number of connections.
const CONNECT_DEADLINE: Duration = Duration::from_secs(300);
/// Longest wait for the subscriber tasks to hand back their records.
const COLLECT_DEADLINE: Duration = Duration::from_secs(30);
/// Highest latency the histogram records (larger values are clamped), in microseconds.
const MAX_LATENCY_US: u64 = 60_000_000;

/// What the publishers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Every message goes to every subscriber of one channel (`bench.0`).
    Broadcast,
    /// Nothing is published; the connections stay open and subscribed.
    Idle,
    /// Every subscriber `i` joins its own `user:chat.i`; each message goes to one of
    /// them, picked by [`payload::route_target`].
    Routed,
}

/// How fast each publisher sends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// This many messages per second, open loop.
    Rate(f64),
    /// As fast as the server delivers: all publishers together keep at most
    /// `publishers x this` messages not yet delivered to every subscriber.
    Window(usize),
}

/// One run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The scenario's name, for the report.
    pub scenario: String,
    /// Which server.
    pub target: Target,
    /// `ws://127.0.0.1:PORT/ws` (framework) or `ws://127.0.0.1:PORT/` (raw).
    pub url: String,
    /// HS256 secret for the tokens (framework).
    pub secret: String,
    /// What is published.
    pub workload: Workload,
    /// Subscriber connections.
    pub subscribers: usize,
    /// Publisher connections.
    pub publishers: usize,
    /// How fast each publisher sends.
    pub pace: Pace,
    /// How long publishers send (or, idle, how long connections are held).
    pub duration: Duration,
    /// Pause between connecting and measuring memory / publishing.
    pub settle: Duration,
    /// Handshakes in flight at once.
    pub connect_concurrency: usize,
    /// Connections started per second; 0 starts them as fast as the concurrency allows.
    pub connect_rate: f64,
    /// Longest wait, after publishing, for deliveries still on their way.
    pub drain_timeout: Duration,
    /// The server's pid, for memory and CPU; `None` skips those.
    pub server_pid: Option<u32>,
    /// Which repetition this is.
    pub run: u32,
}

/// The scenarios of `BENCHMARKS.md`.
pub const SCENARIOS: [&str; 4] = ["S1", "S2", "S3", "S4"];

impl Config {
    /// The full-size preset of `scenario` (S1..S4) against `target` at `url`.
    pub fn preset(scenario: &str, target: Target, url: &str) -> Result<Self, String> {
        let base = Self {
            scenario: scenario.to_owned(),
            target,
            url: url.to_owned(),
            secret: crate::secret_from_env(),
            workload: Workload::Broadcast,
            subscribers: 1000,
            publishers: 1,
            pace: Pace::Rate(200.0),
            duration: Duration::from_secs(10),
            settle: Duration::from_secs(1),
            connect_concurrency: 32,
            connect_rate: 0.0,
            drain_timeout: Duration::from_secs(10),
            server_pid: None,
            run: 1,
        };
        Ok(match scenario {
            // 1,000 subscribers, one publisher at 200 msg/s: latency.
            "S1" => base,
            // 5,000 subscribers, publishers as fast as the server accepts: deliveries/s.
            "S2" => Self {
                subscribers: 5000,
                publishers: 4,
                pace: Pace::Window(4),
                ..base
            },
            // 10,000 idle authenticated, subscribed connections: memory per connection.
            "S3" => Self {
                workload: Workload::Idle,
                subscribers: 10_000,
                publishers: 0,
                duration: Duration::from_secs(3),
                settle: Duration::from_secs(2),
                ..base
            },
            // 10,000 users on their own channel, messages to random users: routing cost.
            "S4" => Self {
                workload: Workload::Routed,
                subscribers: 10_000,
                publishers: 4,
                pace: Pace::Window(64),
                ..base
            },
            other => return Err(format!("unknown scenario `{other}` (S1, S2, S3 or S4)")),
        })
    }

    /// A tiny version of the preset, for the smoke test: 20 subscribers, 1 s.
    pub fn smoke(scenario: &str, target: Target, url: &str) -> Result<Self, String> {
        let full = Self::preset(scenario, target, url)?;
        Ok(Self {
            subscribers: 20,
            publishers: full.publishers.min(2),
            duration: Duration::from_secs(1),
            settle: Duration::from_millis(100),
            drain_timeout: Duration::from_secs(5),
            ..full
        })
    }

    fn channel_of(&self, subscriber: usize) -> Option<String> {
        match (self.workload, self.target) {
            (Workload::Routed, _) => Some(payload::user_channel(subscriber)),
            (_, Target::Framework) => Some(BROADCAST_CHANNEL.to_owned()),
            // The raw server sends every plain frame to every connection.
            (_, Target::Raw) => None,
        }
    }

    fn expect_of(&self, subscriber: usize) -> Expect {
        match self.workload {
            Workload::Routed => Expect::Routed {
                index: subscriber,
                of: self.subscribers,
            },
            _ => Expect::All,
        }
    }
}

/// Opens, authenticates and subscribes one connection.
async fn open(
    config: &Config,
    minter: &Minter,
    user: &str,
    channel: Option<&str>,
) -> Result<Ws, String> {
    let token = match config.target {
        Target::Framework => Some(minter.token(user).map_err(|e| e.to_string())?),
        Target::Raw => None,
    };
    let mut ws = client::connect(config.target, &config.url, token.as_deref())
        .await
        .map_err(|e| e.to_string())?;
    if let Some(channel) = channel {
        client::subscribe(config.target, &mut ws, channel)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(ws)
}

/// Runs one measurement and reports it. Errors only when nothing could be measured.
pub async fn run(config: &Config) -> Result<Report, String> {
    payload::now_ns(); // starts the shared clock
    let config = Arc::new(config.clone());
    let minter = Arc::new(Minter::new(&config.secret));
    let memory_before = config.server_pid.and_then(proc::memory);
    let shared = Arc::new(Shared::default());
    let (stop_tx, stop_rx) = watch::channel(false);

    // Subscribers.
    let started = Instant::now();
    let (subscribers, failures, first_error) =
        open_subscribers(&config, &minter, &shared, &stop_rx).await;
    let connected = config.subscribers - failures;
    let connect_secs = started.elapsed().as_secs_f64();
    if let Some(error) = &first_error {
        eprintln!("{failures} subscriber(s) failed to connect; first error: {error}");
    }

    // Publishers.
    let mut publisher_ws = Vec::with_capacity(config.publishers);
    for k in 0..config.publishers {
        let channel = match (config.workload, config.target) {
            (Workload::Broadcast, Target::Framework) => Some(BROADCAST_CHANNEL),
            _ => None,
        };
        let ws = open(&config, &minter, &format!("publisher-{k}"), channel)
            .await
            .map_err(|e| format!("publisher {k} failed to connect: {e}"))?;
        publisher_ws.push(ws);
    }

    tokio::time::sleep(config.settle).await;
    let memory_after = config.server_pid.and_then(proc::memory);
    let cpu_before = config.server_pid.and_then(proc::cpu_secs);

    // Publish.
    let publish_start_ns = payload::now_ns();
    let publish_started = Instant::now();
    let mut sent = vec![0u64; config.publishers];
    let mut finished = Vec::new();
    if config.workload == Workload::Idle {
        tokio::time::sleep(config.duration).await;
    } else {
        let tasks: Vec<_> = publisher_ws
            .into_iter()
            .enumerate()
            .map(|(k, ws)| {
                let plan = publisher::Plan {
                    index: u32::try_from(k).unwrap_or(u32::MAX),
                    target: config.target,
                    workload: config.workload,
                    pace: config.pace,
                    duration: config.duration,
                    route_among: config.subscribers,
                    fanout: match config.workload {
                        Workload::Routed => 1,
                        _ => connected as u64,
                    },
                    publishers: config.publishers as u64,
                };
                tokio::spawn(publisher::run(ws, plan, shared.clone(), stop_rx.clone()))
            })
            .collect();
        for (k, task) in tasks.into_iter().enumerate() {
            let done = task.await.map_err(|e| format!("publisher {k}: {e}"))?;
            sent[k] = done.sent;
            finished.push(done);
        }
    }
    let publish_secs = publish_started.elapsed().as_secs_f64();

    // Drain: wait for what is still on its way.
    let total_sent: u64 = sent.iter().sum();
    let expected = match config.workload {
        Workload::Broadcast => total_sent * connected as u64,
        Workload::Routed => total_sent,
        Workload::Idle => 0,
    };
    let drain_deadline = Instant::now() + config.drain_timeout;
    while shared.delivered.load(Ordering::Relaxed) < expected && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cpu_after = config.server_pid.and_then(proc::cpu_secs);
    let memory_end = config.server_pid.and_then(proc::memory);

    // Collect.
    let _ = stop_tx.send(true);
    let trackers = collect(subscribers).await;
    drop(finished);
    let collected = trackers.len();

    let received: u64 = trackers.iter().map(|t| t.received_expected(&sent)).sum();
    let delivered = shared.delivered.load(Ordering::Relaxed);
    let duplicated = trackers.iter().map(|t| t.duplicated).sum();
    let misrouted = trackers.iter().map(|t| t.misrouted).sum();
    let last_at_ns = trackers.iter().map(|t| t.last_at_ns).max().unwrap_or(0);
    let latency = latency(&trackers);
    // Records missing (a task that did not answer in time) count as lost, never as fine.
    let lost = expected.saturating_sub(received) + (connected.saturating_sub(collected)) as u64;

    let delivery_secs = last_at_ns.saturating_sub(publish_start_ns) as f64 / 1e9;
    let connections = (connected + config.publishers) as f64;
    let server_cpu_secs = cpu_before.zip(cpu_after).map(|(a, b)| b - a);
    let work = match config.workload {
        Workload::Routed => total_sent,
        _ => delivered,
    };
    Ok(Report {
        scenario: config.scenario.clone(),
        target: config.target,
        run: config.run,
        subscribers: config.subscribers,
        connected,
        connect_failures: failures,
        connect_secs,
        publishers: config.publishers,
        publish_secs,
        sent: total_sent,
        expected,
        delivered,
        lost,
        duplicated,
        misrouted,
        closed_early: shared.closed_early.load(Ordering::Relaxed),
        messages_per_sec: per_sec(total_sent, publish_secs),
        deliveries_per_sec: per_sec(delivered, delivery_secs),
        latency,
        rss_before_kib: memory_before.map(|m| m.rss_kib),
        rss_after_kib: memory_after.map(|m| m.rss_kib),
        rss_peak_kib: memory_end.map(|m| m.peak_kib),
        rss_per_conn_bytes: memory_before.zip(memory_after).map(|(before, after)| {
            (after.rss_kib as f64 - before.rss_kib as f64) * 1024.0 / connections.max(1.0)
        }),
        server_cpu_secs,
        server_cpu_us_per_unit: server_cpu_secs
            .filter(|_| work > 0)
            .map(|secs| secs * 1e6 / work as f64),
    })
}

type SubscriberTask = JoinHandle<Option<Tracker>>;

/// Opens every subscriber; returns their tasks, how many failed, and the first error.
async fn open_subscribers(
    config: &Arc<Config>,
    minter: &Arc<Minter>,
    shared: &Arc<Shared>,
    stop: &watch::Receiver<bool>,
) -> (Vec<SubscriberTask>, usize, Option<String>) {
    let slots = Arc::new(Semaphore::new(config.connect_concurrency.max(1)));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let mut tasks = Vec::with_capacity(config.subscribers);
    let deadline = Instant::now() + CONNECT_DEADLINE;
    let mut pacing = (config.connect_rate > 0.0)
        .then(|| tokio::time::interval(Duration::from_secs_f64(1.0 / config.connect_rate)));
    let mut failures = 0;
    let mut first_error = None;
    for i in 0..config.subscribers {
        if let Some(pacing) = &mut pacing {
            pacing.tick().await;
        }
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.ok(),
            () = tokio::time::sleep_until(deadline) => None,
        };
        let Some(slot) = slot else {
            failures = config.subscribers - i;
            first_error.get_or_insert_with(|| "connect phase deadline passed".to_owned());
            break;
        };
        let (config, minter, shared, stop, ready) = (
            config.clone(),
            minter.clone(),
            shared.clone(),
            stop.clone(),
            ready_tx.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let channel = config.channel_of(i);
            let opened = open(&config, &minter, &i.to_string(), channel.as_deref()).await;
            drop(slot);
            match opened {
                Ok(ws) => {
                    let _ = ready.send(Ok(()));
                    let tracker = Tracker::new(config.expect_of(i));
                    Some(subscriber::receive(ws, tracker, shared, stop).await)
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                    None
                }
            }
        }));
    }
    drop(ready_tx);
    let mut answered = 0;
    while answered < tasks.len() {
        let answer = tokio::select! {
            answer = ready_rx.recv() => answer,
            () = tokio::time::sleep_until(deadline) => None,
        };
        let Some(answer) = answer else {
            failures += tasks.len() - answered;
            first_error.get_or_insert_with(|| "connect phase deadline passed".to_owned());
            break;
        };
        answered += 1;
        if let Err(e) = answer {
            failures += 1;
            first_error.get_or_insert(e);
        }
    }
    (tasks, failures, first_error)
}

/// The records of every subscriber that answers within [`COLLECT_DEADLINE`].
async fn collect(tasks: Vec<SubscriberTask>) -> Vec<Tracker> {
    let deadline = Instant::now() + COLLECT_DEADLINE;
    let mut trackers = Vec::with_capacity(tasks.len());
    for task in tasks {
        match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(Some(tracker))) => trackers.push(tracker),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    trackers
}

fn latency(trackers: &[Tracker]) -> Latency {
    let Ok(mut histogram) = Histogram::<u64>::new_with_bounds(1, MAX_LATENCY_US, 3) else {
        return Latency::default();
    };
    for value in trackers.iter().flat_map(|t| &t.latencies_us) {
        histogram.saturating_record(u64::from(*value).clamp(1, MAX_LATENCY_US));
    }
    Latency::of(&histogram)
}

fn per_sec(count: u64, secs: f64) -> f64 {
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}
