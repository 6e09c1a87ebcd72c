//! The churn soak (issue 16): thousands of clients connecting, subscribing,
//! unsubscribing, closing and vanishing at random while publishers broadcast; then
//! everything leaves, and the server must be back where it started: no connection,
//! user, channel, subscription or channel actor left, and its memory near its baseline.
//!
//! A round, against one `bench-server` process: every client connects and joins two
//! channels; then `ops_per_sec` random operations (connect, subscribe, unsubscribe,
//! close, reset without a close frame) for its length while the publishers broadcast
//! on random channels; then every client leaves (half with a close frame, half reset)
//! and the server's stats must reach zero.
//!
//! A warm-up round of `warm_up_secs` comes first; the idle RSS after it is the
//! baseline (the allocator has seen the workload's peak once, so what it keeps from
//! then on is not a leak). Then `rounds` rounds of `secs`: the RSS after each must stay
//! within 10% of the baseline, and a leak shows as growth from round to round.

mod connection;
mod stats;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use connection::{Command, Handle};
pub use stats::{ServerStats, fetch_stats};

use crate::proc;
use crate::token::Minter;

/// What the soak does.
#[derive(Debug, Clone)]
pub struct Config {
    /// Client slots; each is connected or not at any time.
    pub clients: usize,
    /// Random operations per second during the soak.
    pub ops_per_sec: u32,
    /// Length of each soak round.
    pub secs: u64,
    /// Soak rounds after the warm-up.
    pub rounds: usize,
    /// Idle time before each RSS reading: allocators hand freed memory back to the
    /// system with a delay (jemalloc's default decay is 10 s).
    pub settle_secs: u64,
    /// Length of the warm-up round (as long as a soak round, so it reaches the same
    /// working set).
    pub warm_up_secs: u64,
    /// Channels `bench.0` .. `bench.{channels-1}` to join and publish on.
    pub channels: u32,
    /// Distinct users; client `i` is user `u{i % users}`, so users have several.
    pub users: usize,
    /// Publisher connections, and broadcasts per second over all of them.
    pub publishers: usize,
    pub publishes_per_sec: u32,
    /// Seed of the random choices (the same seed repeats the same run).
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            clients: 5000,
            ops_per_sec: 500,
            secs: 60,
            rounds: 1,
            warm_up_secs: 60,
            settle_secs: 12,
            channels: 200,
            users: 2000,
            publishers: 2,
            publishes_per_sec: 200,
            seed: 0x5eed,
        }
    }
}

/// The server under test.
#[derive(Debug, Clone)]
pub struct Server {
    pub pid: u32,
    /// `ws://host:port/ws`.
    pub ws_url: String,
    /// `host:port` of its HTTP API.
    pub addr: String,
    pub api_key: String,
}

/// Client-side counters, shared by every client task.
#[derive(Debug, Default)]
pub struct Counters {
    pub connected: AtomicU64,
    pub connect_failed: AtomicU64,
    pub closed_by_server: AtomicU64,
    pub received: AtomicU64,
}

impl Counters {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Operations done during the soak, by kind.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Operations {
    pub connects: u64,
    pub subscribes: u64,
    pub unsubscribes: u64,
    pub closes: u64,
    pub kills: u64,
}

/// What the soak measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub clients: usize,
    pub secs: u64,
    pub ops_per_sec_target: u32,
    pub ops_per_sec_done: f64,
    pub operations: Operations,
    pub publishes: u64,
    pub deliveries_received: u64,
    pub connects_ok: u64,
    pub connects_failed: u64,
    pub closed_by_server: u64,
    pub rss_start_kib: u64,
    pub rss_baseline_kib: u64,
    pub rss_peak_kib: u64,
    pub rss_end_kib: u64,
    /// Idle RSS after each soak round.
    pub rss_after_rounds_kib: Vec<u64>,
    pub rss_growth_pct: f64,
    pub stats_after: ServerStats,
    pub drained_in_ms: u128,
}

impl Report {
    /// The soak's pass conditions: everything freed, memory back near its baseline.
    pub fn passed(&self) -> bool {
        self.stats_after.is_idle() && self.rss_growth_pct <= 10.0
    }
}

/// A small, seeded generator (xorshift64*): the soak needs variety, not quality.
#[derive(Debug)]
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// One client slot: its handle while connected, and the channels it joined.
#[derive(Debug, Default)]
struct Slot {
    handle: Option<Handle>,
    channels: Vec<u32>,
}

struct Soak {
    config: Config,
    server: Server,
    minter: Minter,
    counters: &'static Counters,
    random: Random,
    slots: Vec<Slot>,
    operations: Operations,
}

/// Runs the three phases and reports.
pub async fn run(config: Config, server: Server, secret: &str) -> Result<Report, String> {
    let counters: &'static Counters = Box::leak(Box::default());
    let pid = server.pid;
    let rss = |what: &str| {
        proc::memory(pid).ok_or_else(|| format!("cannot read the server's memory ({what})"))
    };
    let rss_start = rss("start")?.rss_kib;
    let mut soak = Soak {
        slots: (0..config.clients).map(|_| Slot::default()).collect(),
        random: Random(config.seed | 1),
        minter: Minter::new(secret),
        config,
        server,
        counters,
        operations: Operations::default(),
    };

    eprintln!(
        "churn: warm-up round, {} clients, {} s",
        soak.config.clients, soak.config.warm_up_secs
    );
    soak.round(soak.config.warm_up_secs).await?;
    tokio::time::sleep(Duration::from_secs(soak.config.settle_secs)).await;
    let rss_baseline = rss("baseline")?.rss_kib;

    let mut measured = None;
    let mut rss_after_rounds = Vec::new();
    for round in 1..=soak.config.rounds {
        eprintln!(
            "churn: round {round}, {} ops/s for {} s",
            soak.config.ops_per_sec, soak.config.secs
        );
        let outcome = soak.round(soak.config.secs).await?;
        tokio::time::sleep(Duration::from_secs(soak.config.settle_secs)).await;
        rss_after_rounds.push(rss("end")?.rss_kib);
        measured = Some((outcome, soak.operations));
    }
    let (outcome, operations) = measured.ok_or("no soak round (--rounds 0)")?;
    let end = rss("end")?;
    let done = operations.connects
        + operations.subscribes
        + operations.unsubscribes
        + operations.closes
        + operations.kills;
    Ok(Report {
        clients: soak.config.clients,
        secs: soak.config.secs,
        ops_per_sec_target: soak.config.ops_per_sec,
        ops_per_sec_done: done as f64 / outcome.elapsed.as_secs_f64(),
        operations,
        publishes: outcome.publishes,
        deliveries_received: Counters::get(&counters.received),
        connects_ok: Counters::get(&counters.connected),
        connects_failed: Counters::get(&counters.connect_failed),
        closed_by_server: Counters::get(&counters.closed_by_server),
        rss_start_kib: rss_start,
        rss_baseline_kib: rss_baseline,
        rss_peak_kib: end.peak_kib,
        rss_end_kib: end.rss_kib,
        rss_after_rounds_kib: rss_after_rounds,
        rss_growth_pct: (end.rss_kib as f64 / rss_baseline as f64 - 1.0) * 100.0,
        stats_after: outcome.stats_after,
        drained_in_ms: outcome.drained.as_millis(),
    })
}

/// What one round saw.
struct Round {
    elapsed: Duration,
    publishes: u64,
    stats_after: ServerStats,
    drained: Duration,
}

impl Soak {
    /// Connects everyone, churns for `secs` while publishing, then drains.
    async fn round(&mut self, secs: u64) -> Result<Round, String> {
        self.connect_everyone().await?;
        self.operations = Operations::default(); // counts the churn alone
        let publishers = self.publishers();
        let started = Instant::now();
        let publishes = self.churn(&publishers, secs).await;
        let elapsed = started.elapsed();
        let operations = self.operations;
        drop(publishers);
        self.leave_everyone();
        self.operations = operations; // the drain is not part of the churn
        let drained = Instant::now();
        let stats_after = self.wait_idle(Duration::from_secs(60)).await?;
        Ok(Round {
            elapsed,
            publishes,
            stats_after,
            drained: drained.elapsed(),
        })
    }

    fn channel(&mut self) -> u32 {
        self.random.below(u64::from(self.config.channels)) as u32
    }

    fn connect(&mut self, slot: usize) -> Result<(), String> {
        let user = format!("u{}", slot % self.config.users.max(1));
        let token = self.minter.token(&user).map_err(|e| e.to_string())?;
        let handle = connection::spawn(self.server.ws_url.clone(), token, self.counters);
        self.slots[slot] = Slot {
            handle: Some(handle),
            channels: Vec::new(),
        };
        self.operations.connects += 1;
        Ok(())
    }

    /// Joins a channel the slot is not in yet.
    fn subscribe(&mut self, slot: usize) {
        let mut channel = self.channel();
        while self.slots[slot].channels.contains(&channel) {
            channel = (channel + 1) % self.config.channels;
        }
        let Some(handle) = &self.slots[slot].handle else {
            return;
        };
        if handle.send(Command::Subscribe(format!("bench.{channel}"))) {
            self.slots[slot].channels.push(channel);
            self.operations.subscribes += 1;
        }
    }

    /// Leaves one of the slot's channels (joins one when it has none).
    fn unsubscribe(&mut self, slot: usize) {
        if self.slots[slot].channels.is_empty() {
            return self.subscribe(slot);
        }
        let state = &mut self.slots[slot];
        let Some(handle) = &state.handle else { return };
        let at = self.random.below(state.channels.len() as u64) as usize;
        let channel = state.channels.swap_remove(at);
        if handle.send(Command::Unsubscribe(format!("bench.{channel}"))) {
            self.operations.unsubscribes += 1;
        }
    }

    /// Closes the slot's client: with a close frame, or reset without one.
    fn leave(&mut self, slot: usize, kill: bool) {
        if let Some(handle) = self.slots[slot].handle.take() {
            handle.send(if kill { Command::Kill } else { Command::Close });
            if kill {
                self.operations.kills += 1;
            } else {
                self.operations.closes += 1;
            }
        }
        self.slots[slot].channels.clear();
    }

    /// Every slot connected and in two channels, once the server counts them all.
    async fn connect_everyone(&mut self) -> Result<(), String> {
        for slot in 0..self.slots.len() {
            self.connect(slot)?;
            self.subscribe(slot);
            self.subscribe(slot);
            if slot % 100 == 99 {
                tokio::time::sleep(Duration::from_millis(20)).await; // no SYN flood
            }
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let stats = fetch_stats(&self.server.addr, &self.server.api_key).await?;
            if stats.connections >= self.slots.len() as u64 {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "only {} of {} clients connected",
                    stats.connections,
                    self.slots.len()
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Every client leaves, alternately with and without a close frame.
    fn leave_everyone(&mut self) {
        for slot in 0..self.slots.len() {
            self.leave(slot, slot % 2 == 1);
        }
    }

    /// Polls the server's stats until nothing is left; errors after `limit`.
    async fn wait_idle(&self, limit: Duration) -> Result<ServerStats, String> {
        let deadline = Instant::now() + limit;
        loop {
            let stats = fetch_stats(&self.server.addr, &self.server.api_key).await?;
            if stats.is_idle() || Instant::now() > deadline {
                return Ok(stats);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn publishers(&mut self) -> Vec<Handle> {
        (0..self.config.publishers)
            .map(|n| {
                let token = self
                    .minter
                    .token(&format!("publisher{n}"))
                    .unwrap_or_default();
                connection::spawn(self.server.ws_url.clone(), token, self.counters)
            })
            .collect()
    }

    /// The soak proper: random operations at a steady rate, publishes alongside.
    /// Returns the publishes sent.
    async fn churn(&mut self, publishers: &[Handle], secs: u64) -> u64 {
        const TICK: Duration = Duration::from_millis(10);
        let ticks = secs * 1000 / TICK.as_millis() as u64;
        let per_tick = |rate: u32| f64::from(rate) * TICK.as_secs_f64();
        let (mut ops_due, mut publishes_due, mut publishes) = (0.0, 0.0, 0);
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        for _ in 0..ticks {
            interval.tick().await;
            ops_due += per_tick(self.config.ops_per_sec);
            while ops_due >= 1.0 {
                ops_due -= 1.0;
                self.operate();
            }
            publishes_due += per_tick(self.config.publishes_per_sec);
            while publishes_due >= 1.0 && !publishers.is_empty() {
                publishes_due -= 1.0;
                let channel = self.channel();
                let by = &publishers[publishes as usize % publishers.len()];
                if by.send(Command::Publish(format!("bench.{channel}"))) {
                    publishes += 1;
                }
            }
        }
        publishes
    }

    /// One random operation on one random slot.
    fn operate(&mut self) {
        let slot = self.random.below(self.slots.len() as u64) as usize;
        let connected = self.slots[slot]
            .handle
            .as_ref()
            .is_some_and(|h| !h.is_gone());
        if !connected {
            let _ = self.connect(slot);
            return;
        }
        match self.random.below(100) {
            0..35 => self.subscribe(slot),
            35..60 => self.unsubscribe(slot),
            60..85 => self.leave(slot, false),
            _ => self.leave(slot, true),
        }
    }
}
