//! Switchboard benchmarks.
//!
//! Three programs share this library:
//!
//! - `bench-server`: Switchboard with JWT and the bench listeners ([`server`]), one node
//!   or several on a Redis backplane (`--redis URL`);
//! - `raw-server`: the baseline, a broadcast server on tokio and a minimal hand-written
//!   WebSocket ([`wire`]) with no framework ([`raw`]), "the machine's limit";
//! - `loadgen`: the load generator ([`loadgen`]) that drives either one over loopback
//!   and reports connect time, deliveries per second, publish-to-receive latency, lost,
//!   duplicated and reordered deliveries, and the server's memory and CPU ([`report`]);
//!   `loadgen summarize` prints a session's medians, ratios and targets ([`summary`]);
//! - `churn`: the churn soak ([`churn`]), which starts its own `bench-server`.
//!
//! The scenarios (S1..S5) are presets of [`loadgen::Config`]; `BENCHMARKS.md` says how
//! to run them and holds the results. The same code runs a tiny smoke version of each
//! scenario in `cargo test` (`tests/smoke.rs`), which checks that nothing is lost,
//! duplicated or reordered.

pub mod args;
pub mod churn;
pub mod loadgen;
pub mod payload;
pub mod proc;
pub mod raw;
pub mod report;
pub mod server;
pub mod summary;
pub mod token;
pub mod wire;

/// The HMAC secret the bench server and the load generator share when
/// `BENCH_JWT_SECRET` is not set. Loopback benchmarks only: never a real secret.
pub const DEFAULT_SECRET: &str = "switchboard-bench-secret-not-for-production-use";

/// The JWT secret to use: `BENCH_JWT_SECRET`, or [`DEFAULT_SECRET`].
pub fn secret_from_env() -> String {
    std::env::var("BENCH_JWT_SECRET").unwrap_or_else(|_| DEFAULT_SECRET.to_owned())
}

/// Which server a run targets: they speak different wire formats.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// `bench-server`: protocol v1 with JWT.
    Framework,
    /// `raw-server`: text frames, broadcast as they are.
    Raw,
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "framework" => Ok(Self::Framework),
            "raw" => Ok(Self::Raw),
            other => Err(format!("unknown target `{other}` (framework or raw)")),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Framework => "framework",
            Self::Raw => "raw",
        })
    }
}
