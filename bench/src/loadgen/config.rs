//! What one run does: the scenarios of `BENCHMARKS.md` as presets, and their knobs.

use std::time::Duration;

use super::tracker::Expect;
use crate::Target;
use crate::payload::{self, BROADCAST_CHANNEL};

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
    /// As fast as the server delivers. Broadcast: each publisher keeps at most this
    /// many messages in flight to the slowest subscriber. Routed: all publishers
    /// together keep at most `publishers x this` messages undelivered.
    Window(usize),
}

/// One run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The scenario's name, for the report.
    pub scenario: String,
    /// Which server.
    pub target: Target,
    /// `ws://127.0.0.1:PORT/ws` (framework) or `ws://127.0.0.1:PORT/` (raw): node A, the
    /// publishers' node.
    pub url: String,
    /// A second node (S5): odd-numbered subscribers connect there instead.
    pub url_b: Option<String>,
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
    /// The server's pid (node A), for memory and CPU; `None` skips those.
    pub server_pid: Option<u32>,
    /// Node B's pid: its memory and CPU are added to node A's.
    pub server_pid_b: Option<u32>,
    /// The Redis server's pid (S5): its CPU is reported on its own.
    pub redis_pid: Option<u32>,
    /// Which repetition this is.
    pub run: u32,
}

/// The scenarios of `BENCHMARKS.md`.
pub const SCENARIOS: [&str; 5] = ["S1", "S2", "S3", "S4", "S5"];

/// The reference fan-out workload's window: messages in flight to the slowest subscriber.
pub const S2_WINDOW: usize = 128;

impl Config {
    /// The full-size preset of `scenario` (S1..S5) against `target` at `url`.
    pub fn preset(scenario: &str, target: Target, url: &str) -> Result<Self, String> {
        let base = Self {
            scenario: scenario.to_owned(),
            target,
            url: url.to_owned(),
            url_b: None,
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
            server_pid_b: None,
            redis_pid: None,
            run: 1,
        };
        let fan_out = Self {
            subscribers: 5000,
            publishers: 1,
            pace: Pace::Window(S2_WINDOW),
            ..base.clone()
        };
        Ok(match scenario {
            // 1,000 subscribers, one publisher at 200 msg/s: latency.
            "S1" => base,
            // 5,000 subscribers, one publisher as fast as the slowest subscriber allows.
            "S2" => fan_out,
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
            // S2 over two nodes sharing Redis: the caller gives node B (`url_b`).
            "S5" if target == Target::Framework => fan_out,
            "S5" => return Err("S5 needs the framework (the raw baseline has no Redis)".into()),
            other => return Err(format!("unknown scenario `{other}` (S1 to S5)")),
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

    /// Where subscriber `i` connects: alternately node A and node B when there are two.
    pub(super) fn url_of(&self, subscriber: usize) -> &str {
        match &self.url_b {
            Some(b) if subscriber % 2 == 1 => b,
            _ => &self.url,
        }
    }

    pub(super) fn channel_of(&self, subscriber: usize) -> Option<String> {
        match (self.workload, self.target) {
            (Workload::Routed, _) => Some(payload::user_channel(subscriber)),
            (_, Target::Framework) => Some(BROADCAST_CHANNEL.to_owned()),
            // The raw server sends every plain frame to every connection.
            (_, Target::Raw) => None,
        }
    }

    pub(super) fn expect_of(&self, subscriber: usize) -> Expect {
        match self.workload {
            Workload::Routed => Expect::Routed {
                index: subscriber,
                of: self.subscribers,
            },
            _ => Expect::All,
        }
    }

    /// The server processes whose CPU and memory count as "the server".
    pub(super) fn server_pids(&self) -> Vec<u32> {
        self.server_pid
            .into_iter()
            .chain(self.server_pid_b)
            .collect()
    }
}
