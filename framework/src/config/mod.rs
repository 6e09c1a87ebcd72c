//! Typed settings, loaded from `config/Websockets.toml` with environment overrides.
//!
//! Every key has a default, so an empty file is a valid configuration. A key the
//! framework does not know, or a value of the wrong type or range, is refused with an
//! error naming the file (or environment variable) and the key.
//!
//! Environment variables override the file: `SWITCHBOARD__` followed by the key path
//! in upper case with `__` between sections, e.g. `SWITCHBOARD__LIMITS__OUTBOUND_QUEUE=64`
//! or `SWITCHBOARD__SERVER__BIND=0.0.0.0:9000`. Use them for secrets and per-host values.
//!
//! ```
//! use switchboard::config::Settings;
//! let settings = Settings::from_toml_str(
//!     "path = \"/socket\"\n[heartbeat]\ninterval_secs = 10\ntimeout_secs = 30\n",
//!     "Websockets.toml",
//!     [("SWITCHBOARD__LIMITS__OUTBOUND_QUEUE".to_owned(), "64".to_owned())],
//! )?;
//! assert_eq!(settings.path, "/socket");
//! assert_eq!(settings.limits.outbound_queue, 64);
//! # Ok::<(), switchboard::config::ConfigError>(())
//! ```

mod auth;
mod error;
mod load;
mod signals;
mod validate;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use auth::{AuthSettings, JwtAlgorithm, JwtSettings, Secret};
pub use error::ConfigError;
pub use load::ENV_PREFIX;
pub use signals::{PostgresSettings, SignalSettings, Watch};

/// Everything `Websockets.toml` can say. Fields are public so tests and embedders can
/// start from [`Settings::default`] and change what they need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Settings {
    /// `false` mounts nothing: no WebSocket route is served.
    pub enabled: bool,
    /// The URL path of the WebSocket endpoint.
    pub path: String,
    /// Where every other route of the framework lives: `PREFIX/switchboard.js` and
    /// `PREFIX/switchboard.d.ts`, `PREFIX/api/...`, `PREFIX/metrics`, `PREFIX/healthz`, `PREFIX/readyz`; the
    /// application keeps every other path.
    pub routes_prefix: String,
    /// Global middleware, by registered name, run in order on every handshake and
    /// subscription. `jwt` is built in.
    pub middleware: Vec<String>,
    /// Who may connect.
    pub auth: AuthSettings,
    /// How the `jwt` middleware verifies tokens.
    pub jwt: JwtSettings,
    /// Where the standalone server listens.
    pub server: ServerSettings,
    /// Keep-alive pings and the silence timeout.
    pub heartbeat: HeartbeatSettings,
    /// Per-connection limits.
    pub limits: LimitSettings,
    /// How nodes share messages.
    pub backplane: BackplaneSettings,
    /// The server-side HTTP API other backends call.
    pub http_api: HttpApiSettings,
    /// The Prometheus metrics endpoint.
    pub metrics: MetricsSettings,
    /// What streams (channels with history) keep.
    pub history: HistorySettings,
    /// How presence survives nodes that die.
    pub presence: PresenceSettings,
    /// How data-change signals are coalesced.
    pub signals: SignalSettings,
    /// The PostgreSQL source of signals (cargo feature `postgres`).
    pub postgres: PostgresSettings,
    /// Tables whose changes signal channels (`[[watch]]`), through `[postgres]`.
    pub watch: Vec<Watch>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            enabled: true,
            path: "/ws".to_owned(),
            routes_prefix: "/switchboard".to_owned(),
            middleware: vec!["jwt".to_owned()],
            auth: AuthSettings::default(),
            jwt: JwtSettings::default(),
            server: ServerSettings::default(),
            heartbeat: HeartbeatSettings::default(),
            limits: LimitSettings::default(),
            backplane: BackplaneSettings::default(),
            http_api: HttpApiSettings::default(),
            metrics: MetricsSettings::default(),
            history: HistorySettings::default(),
            presence: PresenceSettings::default(),
            signals: SignalSettings::default(),
            postgres: PostgresSettings::default(),
            watch: Vec::new(),
        }
    }
}

/// `[server]`: the standalone HTTP server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerSettings {
    /// `host:port` to listen on.
    pub bind: String,
    /// Listen backlog; the OS default (128) overflows under connection bursts.
    pub backlog: u32,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// On SIGTERM/SIGINT: seconds to let clients receive their 1001 close frames
    /// before the process exits anyway.
    pub drain_secs: u64,
    /// `host:port` of a second, internal listener for `PREFIX/metrics`,
    /// `PREFIX/healthz` and `PREFIX/readyz`, which then leave the public one; empty
    /// serves them beside everything else.
    pub internal_bind: String,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            backlog: 4096,
            workers: 0,
            drain_secs: 10,
            internal_bind: String::new(),
        }
    }
}

/// `[heartbeat]`: the server pings, the client answers `pong`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct HeartbeatSettings {
    /// Seconds between two `ping` packets.
    pub interval_secs: u64,
    /// Seconds of silence from the client after which it is closed with 4000.
    pub timeout_secs: u64,
}

impl HeartbeatSettings {
    /// [`Self::interval_secs`] as a duration.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_secs)
    }

    /// [`Self::timeout_secs`] as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

impl Default for HeartbeatSettings {
    fn default() -> Self {
        Self {
            interval_secs: 25,
            timeout_secs: 60,
        }
    }
}

/// `[limits]`: what one connection may cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct LimitSettings {
    /// Largest frame or reassembled message a client may send; larger closes with 1009.
    pub max_message_bytes: usize,
    /// Packets waiting to be written to one client; a full queue closes it with 4008.
    pub outbound_queue: usize,
    /// Bytes waiting to be written to one client (WebSocket frames, headers included);
    /// past it the client is closed with 4008, as for `outbound_queue`.
    pub outbound_queue_bytes: usize,
    /// Seconds a client's socket may accept no bytes while frames wait for it; then the
    /// connection is aborted (TCP reset) and everything it held is freed.
    pub write_timeout_secs: u64,
    /// Channels one connection may join at once.
    pub max_subscriptions: usize,
    /// Packets per second one connection may send, sustained (token bucket rate).
    pub messages_per_second: u32,
    /// Packets one connection may send in a burst above that rate (bucket size).
    pub burst: u32,
    /// Refused (`rate_limited`) packets within 10 s after which the connection is
    /// closed with 4029.
    pub flood_close_after: u32,
    /// Open connections on this node; further handshakes get 503.
    pub max_connections: usize,
    /// Open connections of one user on this node; further handshakes get 429.
    pub max_connections_per_user: usize,
    /// Seconds a client has to complete the HTTP upgrade (request head plus
    /// middleware) before the server drops it.
    pub handshake_timeout_secs: u64,
    /// Seconds an event handler (socket or channel listener) may run; past it the
    /// client gets `handler_error` with reason `timeout` and the connection goes on.
    /// A subscribe's authorisation gets the same time (`unauthorised`, reason `timeout`).
    pub handler_timeout_secs: u64,
    /// Events and subscribe requests that may wait for one channel's listener; past it
    /// they are refused with `overloaded` instead of queueing without bound.
    pub channel_queue: usize,
}

impl LimitSettings {
    /// `handler_timeout_secs` as a duration.
    pub fn handler_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.handler_timeout_secs)
    }
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 * 1024,
            outbound_queue: 256,
            outbound_queue_bytes: 1024 * 1024,
            write_timeout_secs: 10,
            max_subscriptions: 100,
            messages_per_second: 50,
            burst: 100,
            flood_close_after: 200,
            max_connections: 100_000,
            max_connections_per_user: 32,
            handshake_timeout_secs: 10,
            handler_timeout_secs: 30,
            channel_queue: 1024,
        }
    }
}

/// `[http_api]`: lets other backends send through this server over HTTP.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct HttpApiSettings {
    /// Serve the API at all, under `ROUTES_PREFIX/api`.
    pub enabled: bool,
    /// The key callers send as `Authorization: Bearer KEY` (or `X-Api-Key`); at least
    /// 32 bytes. Set it through `SWITCHBOARD__HTTP_API__KEY`.
    pub key: Secret,
}

/// `[metrics]`: counters and histograms in Prometheus' text format.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct MetricsSettings {
    /// Serve `ROUTES_PREFIX/metrics` at all.
    pub enabled: bool,
}

/// `[backplane]`: how a message reaches sessions on other nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct BackplaneSettings {
    /// Which implementation carries messages.
    pub kind: BackplaneKind,
    /// Redis URL for `kind = "redis"`; may carry a password, so it is a secret
    /// (`SWITCHBOARD__BACKPLANE__URL`).
    pub url: Secret,
    /// Prefix of every Redis topic, so several applications can share one Redis.
    pub prefix: String,
    /// Messages waiting to be published; beyond it they are dropped and counted.
    pub publish_queue: usize,
    /// Bytes waiting to be published (the packets' JSON); beyond it, the same.
    pub publish_queue_bytes: usize,
}

impl Default for BackplaneSettings {
    fn default() -> Self {
        Self {
            kind: BackplaneKind::Memory,
            url: Secret::new("redis://127.0.0.1:6379"),
            prefix: "switchboard".to_owned(),
            publish_queue: 65536,
            publish_queue_bytes: 64 * 1024 * 1024,
        }
    }
}

/// `backplane.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum BackplaneKind {
    /// One node, in process; no other service needed.
    Memory,
    /// Nodes share Redis pub/sub; a send reaches subscribers on every node.
    Redis,
}

/// `[presence]`: how presence (`#[channel("room.{id}", presence)]`) stays right across
/// nodes. With the Redis backplane each node keeps its members under a lease it renews
/// every third of `lease_secs`; a node that dies without leaving (SIGKILL, a network
/// cut) loses its members once the lease runs out, and a surviving node announces
/// their `presence-leave`.
///
/// ```
/// use switchboard::config::Settings;
/// let settings = Settings::from_toml_str("[presence]\nlease_secs = 5\n", "Websockets.toml", [])?;
/// assert_eq!(settings.presence.lease().as_secs(), 5);
/// # Ok::<(), switchboard::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PresenceSettings {
    /// Seconds after its last renewal that a silent node's members are dropped (and
    /// their leaves announced by another node); 1 to 3600.
    pub lease_secs: u64,
}

/// Longest presence lease: an hour of ghosts is already more than anyone wants.
pub(crate) const MAX_PRESENCE_LEASE_SECS: u64 = 3600;

impl PresenceSettings {
    /// How long a node's members outlive its last renewal.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }
}

impl Default for PresenceSettings {
    fn default() -> Self {
        Self { lease_secs: 15 }
    }
}

/// `[history]`: what streams keep (channels whose publications carry an offset and
/// can be recovered after a reconnect; `docs/protocol.md`, "Streams").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct HistorySettings {
    /// Bytes of history this node keeps for all streams together; past it, the oldest
    /// publications of the largest streams are dropped (a recovery that needed them
    /// answers `recovered: false`).
    pub max_bytes: usize,
    /// Streams by listener pattern: makes a listener's channels streams, or overrides
    /// the `history(...)` its `#[channel]` declares.
    pub channels: Vec<HistoryChannel>,
    /// `[history.users]`: whether sends to a user are kept, so a device that was offline
    /// catches up when it reconnects.
    pub users: HistoryUsers,
}

impl Default for HistorySettings {
    fn default() -> Self {
        Self {
            max_bytes: 64 * 1024 * 1024,
            channels: Vec::new(),
            users: HistoryUsers::default(),
        }
    }
}

/// `[history.users]`: per-user streams. Every send to a user (`send_to_user`,
/// `SocketUser::send_socket_event`) gets a position in that user's stream and is kept,
/// so a client that reconnects with `since` gets what it missed (`docs/protocol.md`,
/// "User streams"). Off (`size = 0`) by default.
///
/// ```
/// let mut settings = switchboard::config::Settings::default();
/// settings.history.users.size = 50; // the last 50 sends to each user
/// settings.history.users.ttl_secs = 3600; // for an hour after the last one
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct HistoryUsers {
    /// Sends kept per user; 0 turns user streams off.
    pub size: usize,
    /// Seconds a user's sends are kept after the last one.
    pub ttl_secs: u64,
}

impl Default for HistoryUsers {
    fn default() -> Self {
        Self {
            size: 0,
            ttl_secs: 600,
        }
    }
}

/// One `[[history.channels]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct HistoryChannel {
    /// A channel listener's pattern, exactly as its `#[channel]` writes it.
    pub pattern: String,
    /// Publications kept per channel.
    pub size: usize,
    /// Seconds history is kept after a channel's last publication.
    pub ttl_secs: u64,
}

impl HistoryChannel {
    /// An entry for `pattern`.
    pub fn new(pattern: impl Into<String>, size: usize, ttl_secs: u64) -> Self {
        Self {
            pattern: pattern.into(),
            size,
            ttl_secs,
        }
    }
}
