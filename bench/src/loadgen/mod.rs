//! The load generator: opens subscribers, runs publishers, measures.
//!
//! A run goes: read the server's idle memory; open `subscribers` connections (at most
//! `connect_concurrency` handshakes at once, optionally paced) and subscribe each;
//! open the publishers; settle; read memory again; publish for `duration`; wait until
//! every expected delivery arrived (or `drain_timeout`); stop the subscribers and
//! count what each one received. Every phase has a deadline, so a run always ends.
//!
//! The receive path is built not to be the bottleneck: a hand-written frame reader
//! over a small buffer ([`crate::wire`]), the stamp found by byte search, bitmaps per
//! publisher, histograms per thread ([`subscriber`]).

pub mod client;
pub mod config;
pub mod latency;
pub mod publisher;
pub mod shared;
pub mod subscriber;
pub mod tracker;
pub mod window;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use config::{Config, Pace, S2_WINDOW, SCENARIOS, Workload};

use crate::Target;
use crate::payload::{self, BROADCAST_CHANNEL};
use crate::proc;
use crate::report::{Latency, Report};
use crate::token::Minter;
use crate::wire::client::{Client, Url};
use shared::Shared;
use subscriber::SharedTracker;
use tracker::Tracker;

/// Longest the connect phase may take, whatever the number of connections.
const CONNECT_DEADLINE: Duration = Duration::from_secs(300);

/// Opens, authenticates and subscribes one connection.
async fn open(
    config: &Config,
    url: &str,
    minter: &Minter,
    user: &str,
    channel: Option<&str>,
) -> Result<Client, String> {
    let url: Url = url.parse()?;
    let token = match config.target {
        Target::Framework => Some(minter.token(user).map_err(|e| e.to_string())?),
        Target::Raw => None,
    };
    let mut ws = client::connect(config.target, &url, token.as_deref())
        .await
        .map_err(|e| e.to_string())?;
    if let Some(channel) = channel {
        client::subscribe(config.target, &mut ws, channel)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(ws)
}

/// The servers' memory, summed over their processes; `None` unless all could be read.
fn memory(pids: &[u32]) -> Option<proc::Memory> {
    pids.iter().try_fold(proc::Memory::default(), |sum, &pid| {
        let m = proc::memory(pid)?;
        Some(proc::Memory {
            rss_kib: sum.rss_kib + m.rss_kib,
            peak_kib: sum.peak_kib + m.peak_kib,
        })
    })
}

/// The servers' CPU seconds, summed over their processes.
fn cpu(pids: &[u32]) -> Option<f64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&pid| proc::cpu_secs(pid)).sum()
}

/// Runs one measurement and reports it. Errors only when nothing could be measured.
pub async fn run(config: &Config) -> Result<Report, String> {
    payload::now_ns(); // starts the shared clock
    let config = Arc::new(config.clone());
    let pids = config.server_pids();
    let redis: Vec<u32> = config.redis_pid.into_iter().collect();
    let minter = Arc::new(Minter::new(&config.secret));
    let memory_before = memory(&pids);
    let window = match config.pace {
        Pace::Window(window) => window,
        Pace::Rate(_) => 1,
    };
    let shared = Arc::new(Shared::new(window, config.publishers));

    // Subscribers.
    let started = Instant::now();
    let (subscribers, failures, first_error) = open_subscribers(&config, &minter, &shared).await;
    let connected = config.subscribers - failures;
    let connect_secs = started.elapsed().as_secs_f64();
    if let Some(error) = &first_error {
        eprintln!("{failures} subscriber(s) failed to connect; first error: {error}");
    }
    shared.window.set_subscribers(connected);

    // Publishers, all on node A.
    let mut publisher_ws = Vec::with_capacity(config.publishers);
    for k in 0..config.publishers {
        let channel = match (config.workload, config.target) {
            (Workload::Broadcast, Target::Framework) => Some(BROADCAST_CHANNEL),
            _ => None,
        };
        let ws = open(
            &config,
            &config.url,
            &minter,
            &format!("publisher-{k}"),
            channel,
        )
        .await
        .map_err(|e| format!("publisher {k} failed to connect: {e}"))?;
        publisher_ws.push(ws);
    }

    tokio::time::sleep(config.settle).await;
    let memory_after = memory(&pids);
    let cpu_before = cpu(&pids);
    let redis_before = cpu(&redis);
    let load_avg = proc::load_average();
    let own_before = proc::cpu_secs(std::process::id());

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
                    publishers: config.publishers as u64,
                };
                tokio::spawn(publisher::run(ws, plan, shared.clone()))
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
    let cpu_after = cpu(&pids);
    let redis_after = cpu(&redis);
    let own_after = proc::cpu_secs(std::process::id());
    let memory_end = memory(&pids);

    // Stop and collect.
    shared.stopped.store(true, Ordering::Relaxed);
    for (task, _) in &subscribers {
        task.abort();
    }
    let trackers: Vec<_> = subscribers
        .iter()
        .map(|(_, tracker)| subscriber::lock(tracker))
        .collect();
    drop(finished);

    let received: u64 = trackers.iter().map(|t| t.received_expected(&sent)).sum();
    let delivered = shared.delivered.load(Ordering::Relaxed);
    let duplicated = trackers.iter().map(|t| t.duplicated).sum();
    let reordered = trackers.iter().map(|t| t.reordered).sum();
    let misrouted = trackers.iter().map(|t| t.misrouted).sum();
    let last_at_ns = trackers.iter().map(|t| t.last_at_ns).max().unwrap_or(0);
    drop(trackers);
    let latency = Latency::of(&shared.latencies.merged());
    let lost = expected.saturating_sub(received);

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
        nodes: pids.len().max(1),
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
        reordered,
        misrouted,
        closed_early: shared.closed_early.load(Ordering::Relaxed),
        deliveries_per_read: per_read(delivered, shared.reads.load(Ordering::Relaxed)),
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
        redis_cpu_secs: redis_before.zip(redis_after).map(|(a, b)| b - a),
        loadgen_cpu_secs: own_before.zip(own_after).map(|(a, b)| b - a),
        load_avg,
    })
}

type Subscriber = (JoinHandle<()>, SharedTracker);

/// Opens every subscriber; returns them, how many failed, and the first error.
async fn open_subscribers(
    config: &Arc<Config>,
    minter: &Arc<Minter>,
    shared: &Arc<Shared>,
) -> (Vec<Subscriber>, usize, Option<String>) {
    let slots = Arc::new(Semaphore::new(config.connect_concurrency.max(1)));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let mut subscribers = Vec::with_capacity(config.subscribers);
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
        let tracker = Arc::new(Mutex::new(Tracker::new(
            config.expect_of(i),
            config.publishers,
        )));
        let (config, minter, shared, ready, mine) = (
            config.clone(),
            minter.clone(),
            shared.clone(),
            ready_tx.clone(),
            tracker.clone(),
        );
        let task = tokio::spawn(async move {
            let channel = config.channel_of(i);
            let user = i.to_string();
            let opened = open(
                &config,
                config.url_of(i),
                &minter,
                &user,
                channel.as_deref(),
            )
            .await;
            drop(slot);
            match opened {
                Ok(ws) => {
                    let _ = ready.send(Ok(()));
                    subscriber::receive(ws, mine, shared).await;
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                }
            }
        });
        subscribers.push((task, tracker));
    }
    drop(ready_tx);
    let mut answered = 0;
    while answered < subscribers.len() {
        let answer = tokio::select! {
            answer = ready_rx.recv() => answer,
            () = tokio::time::sleep_until(deadline) => None,
        };
        let Some(answer) = answer else {
            failures += subscribers.len() - answered;
            first_error.get_or_insert_with(|| "connect phase deadline passed".to_owned());
            break;
        };
        answered += 1;
        if let Err(e) = answer {
            failures += 1;
            first_error.get_or_insert(e);
        }
    }
    (subscribers, failures, first_error)
}

fn per_read(delivered: u64, reads: u64) -> Option<f64> {
    (reads > 0).then(|| delivered as f64 / reads as f64)
}

fn per_sec(count: u64, secs: f64) -> f64 {
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}
