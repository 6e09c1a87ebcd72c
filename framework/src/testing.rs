//! A test harness for applications (cargo feature `testing`): start the application's
//! [`Switchboard`](crate::Switchboard) in process on loopback, connect [`TestClient`]s to it over a real
//! WebSocket, and assert on what arrives, with a timeout instead of a hung test.
//!
//! ```no_run
//! use serde_json::json;
//! use switchboard::Switchboard;
//! use switchboard::testing::{self, TestClient};
//!
//! # async fn demo() -> Result<(), switchboard::testing::TestError> {
//! let server = testing::start(Switchboard::builder(testing::settings()))?;
//! let mut alice = TestClient::connect(&server).await?;
//! let mut bob = TestClient::connect(&server).await?;
//! alice.subscribe("global-chat").await?;
//! bob.subscribe("global-chat").await?;
//!
//! alice.emit("global-chat", "message", json!({"message": "hi"})).await?;
//! let packet = bob.expect_event("message").await?;
//! assert_eq!(packet["data"]["message"], "hi");
//! // Nothing else reached bob: a marker sent through the server arrives next.
//! bob.assert_nothing_before(&server, "marker").await?;
//! server.stop().await;
//! # Ok(())
//! # }
//! ```
//!
//! Packets a method skips while it waits for another (an event that arrived before the
//! `ack` [`TestClient::emit_with_ack`] waits for) are kept, in order, for the next
//! [`TestClient::expect_event`] or [`TestClient::next_packet`]: a test never loses a
//! packet it did not look at, and [`TestClient::assert_nothing_before`] reports them.
//!
//! Several nodes in one process share a [`Broker`], an in-process backplane that can cut
//! a node off or lose publications on their way to it.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use crate::transport::memory::Broker;

use crate::config::{Secret, Settings};
use crate::{Running, SendError, StartError, SwitchboardBuilder};

/// How long a [`TestClient`] waits for a packet unless told otherwise
/// ([`TestClient::set_timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a test step failed. Every variant says what was awaited or what came instead, so
/// a failing test's message is enough to start looking.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestError {
    /// Nothing (or nothing matching) arrived in time.
    #[error("timed out after {after:?} waiting for {awaited}")]
    Timeout {
        /// What the client waited for, e.g. `event "message"`.
        awaited: String,
        /// The client's timeout.
        after: Duration,
    },
    /// The server closed the connection (or it ended) while the client waited.
    #[error("connection closed (code {code:?}: {reason}) while waiting for {awaited}")]
    Closed {
        /// The close frame's code; `None` when the connection ended without one.
        code: Option<u16>,
        /// The close frame's reason, or how the connection ended.
        reason: String,
        /// What the client waited for.
        awaited: String,
    },
    /// The server refused: the WebSocket handshake (`code` is the HTTP status, as text,
    /// and `reason` the JSON error code), a subscription (`reason` from the
    /// `subscribe-channel-response`), or a packet sent with an ack (the `ack`'s error).
    #[error("refused: {code} {reason:?}: {message}")]
    Refused {
        /// The error code (`unauthorised`, `not_subscribed`, `handler_error`, an HTTP
        /// status for a refused handshake, …).
        code: String,
        /// The refinement, where the server gave one (`timeout`, `unknown_channel`, …).
        reason: Option<String>,
        /// The server's human-readable message.
        message: String,
    },
    /// A packet other than the one the step required arrived.
    #[error("expected {expected}, received {packet}")]
    Unexpected {
        /// What the step required.
        expected: String,
        /// What arrived instead (the first of them).
        packet: Value,
    },
    /// The server sent something that is not a protocol packet.
    #[error("bad packet from the server: {0}")]
    BadPacket(String),
    /// The WebSocket failed (handshake outside HTTP, I/O, protocol error).
    #[error("websocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    /// The server could not be built from its settings.
    #[error("server: {0}")]
    Start(#[from] StartError),
    /// The server could not bind 127.0.0.1.
    #[error("bind: {0}")]
    Bind(#[from] std::io::Error),
    /// Sending through the server (the marker of
    /// [`TestClient::assert_nothing_before`]) failed.
    #[error("send through the server: {0}")]
    Send(#[from] SendError),
    /// A token could not be signed.
    #[error("token: {0}")]
    Token(#[from] jsonwebtoken::errors::Error),
}

/// Settings for tests: one worker, no middleware, anonymous connections allowed, and
/// rate limits out of the way (tests send bursts). Change fields as a test needs.
///
/// ```
/// let mut settings = switchboard::testing::settings();
/// settings.limits.max_subscriptions = 2;
/// ```
pub fn settings() -> Settings {
    let mut s = Settings::default();
    s.server.workers = 1;
    s.middleware.clear();
    s.auth.allow_anonymous = true;
    s.limits.messages_per_second = 100_000;
    s.limits.burst = 100_000;
    s
}

/// [`settings`] with the `jwt` middleware on, HS256 tokens signed with `secret`, no
/// leeway, and anonymous connections refused. Make tokens with [`dev_token`].
///
/// ```
/// let settings = switchboard::testing::jwt_settings("a-test-secret-of-at-least-32-bytes!");
/// assert!(!settings.auth.allow_anonymous);
/// ```
pub fn jwt_settings(secret: &str) -> Settings {
    let mut s = settings();
    s.middleware = vec!["jwt".to_owned()];
    s.auth.allow_anonymous = false;
    s.jwt.secret = Secret::new(secret);
    s.jwt.leeway_secs = 0;
    s
}

/// Builds the server and starts it on `127.0.0.1:0` (a free port, so tests run in
/// parallel); [`Running::ws_url`] is where clients connect. Call it inside the actix
/// runtime of the test (`#[actix_web::test]`).
pub fn start(builder: SwitchboardBuilder) -> Result<Running, TestError> {
    Ok(builder.build()?.start("127.0.0.1:0")?)
}

/// An HS256 token for user `user_id`, valid for an hour, signed with `secret`: what the
/// `jwt` middleware of [`jwt_settings`] accepts. The user resolver sees `sub` = `user_id`.
///
/// ```
/// let token = switchboard::testing::dev_token("a-test-secret-of-at-least-32-bytes!", "alice")?;
/// assert_eq!(token.split('.').count(), 3);
/// # Ok::<(), switchboard::testing::TestError>(())
/// ```
pub fn dev_token(secret: &str, user_id: &str) -> Result<String, TestError> {
    dev_token_with_claims(secret, user_id, json!({}))
}

/// [`dev_token`] with more claims merged in (`{"name": "Alice"}`; an `exp` given here
/// replaces the default hour).
pub fn dev_token_with_claims(
    secret: &str,
    user_id: &str,
    extra: Value,
) -> Result<String, TestError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut claims = json!({ "sub": user_id, "exp": now + 3600 });
    if let (Some(claims), Value::Object(extra)) = (claims.as_object_mut(), extra) {
        claims.extend(extra);
    }
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

/// Faults are named by the node's [`Running`] handle.
impl Broker {
    /// A broker with no nodes and no streams.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cuts `node` off: its link ends at once (its bridge sees the connection lost) and
    /// it cannot reconnect until [`heal`](Self::heal). Publications meanwhile do not
    /// reach it; its streams' subscribers get them from the history once it is back, or
    /// a `resync` when the history no longer holds them.
    pub fn partition(&self, node: &Running) {
        self.partition_node(node.server().node_id().as_str());
    }

    /// Lets `node` reconnect (its bridge retries with backoff: 0.1 s, doubling).
    pub fn heal(&self, node: &Running) {
        self.heal_node(node.server().node_id().as_str());
    }

    /// Loses the next `count` publications on their way to `node` (one message to one
    /// of its subscriptions counts once), as a lossy network would.
    pub fn drop_next(&self, node: &Running, count: usize) {
        self.drop_next_to(node.server().node_id().as_str(), count);
    }

    /// Whether `node` has a link now (a node connects in the background after it
    /// starts; a subscribe before that may be refused with `backplane_unavailable`).
    pub fn is_connected(&self, node: &Running) -> bool {
        self.has_link(node.server().node_id().as_str())
    }
}

/// A WebSocket client that speaks the protocol (`docs/protocol.md`) to a server started
/// in the same process: one connection, like one browser tab.
///
/// Heartbeat `ping` packets are answered with `pong` and never returned.
pub struct TestClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    ready: Value,
    connection_id: String,
    timeout: Duration,
    next_id: u64,
    /// Packets skipped while waiting for another, oldest first.
    backlog: VecDeque<Value>,
}

impl std::fmt::Debug for TestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestClient")
            .field("connection_id", &self.connection_id)
            .field("timeout", &self.timeout)
            .field("backlog", &self.backlog.len())
            .finish_non_exhaustive()
    }
}

impl TestClient {
    /// Connects without a token (the server must allow anonymous connections, as
    /// [`settings`] does) and waits for `ready`.
    pub async fn connect(server: &Running) -> Result<TestClient, TestError> {
        TestClient::open(server.ws_url()).await
    }

    /// Connects with `token` (sent as `?token=`, as the browser client does) and waits
    /// for `ready`. A refused handshake is [`TestError::Refused`] with the HTTP status as
    /// `code` and the server's error code as `reason`.
    ///
    /// ```no_run
    /// # use switchboard::testing::{self, TestClient};
    /// # async fn demo(server: &switchboard::Running) -> Result<(), testing::TestError> {
    /// let token = testing::dev_token("a-test-secret-of-at-least-32-bytes!", "alice")?;
    /// let alice = TestClient::connect_with_token(server, &token).await?;
    /// assert_eq!(alice.user_id(), Some("alice"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_with_token(server: &Running, token: &str) -> Result<Self, TestError> {
        TestClient::open(format!("{}?token={token}", server.ws_url())).await
    }

    async fn open(url: String) -> Result<TestClient, TestError> {
        let request = url.into_client_request()?;
        let ws = match tokio_tungstenite::connect_async(request).await {
            Ok((ws, _)) => ws,
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let body: Value = response
                    .body()
                    .as_deref()
                    .and_then(|b| serde_json::from_slice(b).ok())
                    .unwrap_or(Value::Null);
                return Err(TestError::Refused {
                    code: response.status().as_u16().to_string(),
                    reason: body["error"]["code"].as_str().map(str::to_owned),
                    message: body["error"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let mut client = TestClient {
            ws,
            ready: Value::Null,
            connection_id: String::new(),
            timeout: DEFAULT_TIMEOUT,
            next_id: 1,
            backlog: VecDeque::new(),
        };
        // `ready` must be the first packet: a client may not subscribe before it.
        let mut ready = client.read_packet("the ready packet").await?;
        if ready["event"] != "ready" {
            return Err(TestError::Unexpected {
                expected: "the ready packet first".to_owned(),
                packet: ready,
            });
        }
        client.connection_id = ready["data"]["connection_id"]
            .as_str()
            .ok_or_else(|| TestError::BadPacket(format!("ready without connection_id: {ready}")))?
            .to_owned();
        client.ready = ready["data"].take();
        Ok(client)
    }

    /// The `ready` packet's data: `connection_id`, `user_id`, and the extensions
    /// (`expires_at`, a user stream's position).
    pub fn ready(&self) -> &Value {
        &self.ready
    }

    /// This connection's id, as the server knows it (for `send_to_connection`).
    pub fn connection_id(&self) -> &str {
        &self.connection_id
    }

    /// The user the server resolved, `None` for an anonymous connection.
    pub fn user_id(&self) -> Option<&str> {
        self.ready["user_id"].as_str()
    }

    /// How long each wait lasts from now on (default [`DEFAULT_TIMEOUT`]).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Sends one packet as it is (any JSON, even one the server must refuse).
    pub async fn send(&mut self, packet: Value) -> Result<(), TestError> {
        self.ws.send(Message::text(packet.to_string())).await?;
        Ok(())
    }

    /// Subscribes to `channel` and returns the `subscribe-channel-response` data; a
    /// refusal is [`TestError::Refused`] with code `subscription_refused` and the
    /// server's `reason` (`unauthorised`, `unknown_channel`, …).
    pub async fn subscribe(&mut self, channel: &str) -> Result<Value, TestError> {
        self.subscribe_with(json!({ "channel": channel })).await
    }

    /// Subscribes to a stream asking to recover what followed `offset` in `epoch`; the
    /// response says whether it did (`recovered`, `missed`), and the recovered
    /// publications follow it.
    pub async fn subscribe_since(
        &mut self,
        channel: &str,
        offset: u64,
        epoch: &str,
    ) -> Result<Value, TestError> {
        self.subscribe_with(json!({
            "channel": channel,
            "since": { "offset": offset, "epoch": epoch },
        }))
        .await
    }

    async fn subscribe_with(&mut self, data: Value) -> Result<Value, TestError> {
        let channel = data["channel"].clone();
        self.send(json!({ "event": "subscribe-channel-request", "data": data }))
            .await?;
        let response = self
            .take_first(
                &format!("the subscribe-channel-response for {channel}"),
                |p| p["event"] == "subscribe-channel-response" && p["data"]["channel"] == channel,
            )
            .await?;
        let data = &response["data"];
        if data["successful"] != true {
            return Err(TestError::Refused {
                code: "subscription_refused".to_owned(),
                reason: data["reason"].as_str().map(str::to_owned),
                message: data["message"].as_str().unwrap_or_default().to_owned(),
            });
        }
        Ok(response["data"].clone())
    }

    /// Leaves `channel`; returns whether the connection was subscribed.
    pub async fn unsubscribe(&mut self, channel: &str) -> Result<bool, TestError> {
        self.send(json!({
            "event": "unsubscribe-channel-request",
            "channel": channel,
            "data": { "channel": channel },
        }))
        .await?;
        let response = self
            .take_first(
                &format!("the unsubscribe-channel-response for {channel}"),
                |p| p["event"] == "unsubscribe-channel-response" && p["data"]["channel"] == channel,
            )
            .await?;
        Ok(response["data"]["successful"] == true)
    }

    /// Sends `event` on `channel` (dispatched to the channel listener's event method)
    /// without waiting for anything.
    pub async fn emit(&mut self, channel: &str, event: &str, data: Value) -> Result<(), TestError> {
        self.send(json!({ "event": event, "channel": channel, "data": data }))
            .await
    }

    /// Sends a direct `event` (dispatched to the socket listener for it) without waiting.
    pub async fn emit_direct(&mut self, event: &str, data: Value) -> Result<(), TestError> {
        self.send(json!({ "event": event, "data": data })).await
    }

    /// Sends `event` on `channel` with an `id` and waits for its `ack`: the handler's
    /// answer, or [`TestError::Refused`] with the ack's error (`not_subscribed`,
    /// `handler_error`, …).
    ///
    /// ```no_run
    /// # use serde_json::json;
    /// # async fn demo(client: &mut switchboard::testing::TestClient) -> Result<(), switchboard::testing::TestError> {
    /// let answer = client.emit_with_ack("counter.a", "count", json!({})).await?;
    /// assert_eq!(answer["count"], 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn emit_with_ack(
        &mut self,
        channel: &str,
        event: &str,
        data: Value,
    ) -> Result<Value, TestError> {
        self.with_ack(json!({ "event": event, "channel": channel, "data": data }))
            .await
    }

    /// [`emit_with_ack`](Self::emit_with_ack) for a direct event.
    pub async fn emit_direct_with_ack(
        &mut self,
        event: &str,
        data: Value,
    ) -> Result<Value, TestError> {
        self.with_ack(json!({ "event": event, "data": data })).await
    }

    async fn with_ack(&mut self, mut packet: Value) -> Result<Value, TestError> {
        let id = self.next_id;
        self.next_id += 1;
        packet["id"] = json!(id);
        let event = packet["event"].clone();
        self.send(packet).await?;
        let ack = self
            .take_first(&format!("the ack of {event} (id {id})"), |p| {
                p["event"] == "ack" && p["data"]["id"] == id
            })
            .await?;
        let mut data = ack["data"].clone();
        if data["ok"] == true {
            return Ok(data["data"].take());
        }
        let error = &data["error"];
        // The server sends an `error` packet just before a failed ack, saying the same
        // thing; it is dropped so the next expectation does not trip on it.
        if let Some(at) = self
            .backlog
            .iter()
            .position(|p| p["event"] == "error" && p["data"]["code"] == error["code"])
        {
            self.backlog.remove(at);
        }
        Err(TestError::Refused {
            code: error["code"].as_str().unwrap_or_default().to_owned(),
            reason: error["reason"].as_str().map(str::to_owned),
            message: error["message"].as_str().unwrap_or_default().to_owned(),
        })
    }

    /// The next packet (kept ones first), whatever its event; `ping` never.
    pub async fn next_packet(&mut self) -> Result<Value, TestError> {
        match self.backlog.pop_front() {
            Some(packet) => Ok(packet),
            None => self.read_packet("any packet").await,
        }
    }

    /// The first packet whose `event` is `event` (a kept one, or the next to arrive),
    /// returned whole (`event`, `channel`, `data`, a stream's `offset` and `epoch`).
    /// Other packets that arrive meanwhile are kept for later.
    pub async fn expect_event(&mut self, event: &str) -> Result<Value, TestError> {
        self.take_first(&format!("event {event:?}"), |p| p["event"] == event)
            .await
    }

    /// Like [`expect_event`](Self::expect_event), for `event` on `channel` only.
    pub async fn expect_channel_event(
        &mut self,
        channel: &str,
        event: &str,
    ) -> Result<Value, TestError> {
        self.take_first(&format!("event {event:?} on {channel:?}"), |p| {
            p["event"] == event && p["channel"] == channel
        })
        .await
    }

    /// Asserts that no packet arrives before `marker`, an event sent to this connection
    /// through `server` now: the server writes to a connection in order, so what did not
    /// arrive before the marker was not sent before it. Faster and surer than waiting an
    /// arbitrary time. Kept packets count as arrived.
    pub async fn assert_nothing_before(
        &mut self,
        server: &Running,
        marker: &str,
    ) -> Result<(), TestError> {
        server
            .server()
            .send_to_connection(&self.connection_id, marker, &json!({}))?;
        let packet = self.next_packet().await?;
        if packet["event"] == marker {
            Ok(())
        } else {
            Err(TestError::Unexpected {
                expected: format!("nothing before the marker {marker:?}"),
                packet,
            })
        }
    }

    /// Asserts that no packet arrives within `quiet` (kept packets count as arrived).
    /// Prefer [`assert_nothing_before`](Self::assert_nothing_before), which does not
    /// wait; this is for what the server itself may send later (a close, a resync).
    pub async fn expect_nothing(&mut self, quiet: Duration) -> Result<(), TestError> {
        if let Some(packet) = self.backlog.pop_front() {
            return Err(TestError::Unexpected {
                expected: format!("nothing for {quiet:?}"),
                packet,
            });
        }
        let saved = self.timeout;
        self.timeout = quiet;
        let outcome = self.read_packet("silence").await;
        self.timeout = saved;
        match outcome {
            Err(TestError::Timeout { .. }) => Ok(()),
            Err(other) => Err(other),
            Ok(packet) => Err(TestError::Unexpected {
                expected: format!("nothing for {quiet:?}"),
                packet,
            }),
        }
    }

    /// Waits for the server to close the connection and returns the close code (`None`
    /// when it ended without a close frame). Packets before the close are discarded.
    pub async fn expect_close(&mut self) -> Result<Option<u16>, TestError> {
        loop {
            match self.read_packet("the close").await {
                Ok(_) => {}
                Err(TestError::Closed { code, .. }) => return Ok(code),
                Err(e) => return Err(e),
            }
        }
    }

    /// Closes the connection from the client side (a normal close, 1000).
    pub async fn close(mut self) -> Result<(), TestError> {
        self.ws.close(None).await?;
        Ok(())
    }

    /// Takes the first kept packet matching `wanted`, else reads until one arrives,
    /// keeping the others in order.
    async fn take_first(
        &mut self,
        awaited: &str,
        wanted: impl Fn(&Value) -> bool,
    ) -> Result<Value, TestError> {
        if let Some(at) = self.backlog.iter().position(&wanted)
            && let Some(packet) = self.backlog.remove(at)
        {
            return Ok(packet);
        }
        // One deadline for the whole wait: unrelated packets do not extend it.
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let packet = match tokio::time::timeout(left, self.read_packet(awaited)).await {
                Ok(packet) => packet?,
                Err(_) => {
                    return Err(TestError::Timeout {
                        awaited: awaited.to_owned(),
                        after: self.timeout,
                    });
                }
            };
            if wanted(&packet) {
                return Ok(packet);
            }
            self.backlog.push_back(packet);
        }
    }

    /// Reads the next protocol packet from the wire, answering heartbeats.
    async fn read_packet(&mut self, awaited: &str) -> Result<Value, TestError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next()).await;
            let message = match next {
                Err(_) => {
                    return Err(TestError::Timeout {
                        awaited: awaited.to_owned(),
                        after: self.timeout,
                    });
                }
                Ok(None) => {
                    return Err(TestError::Closed {
                        code: None,
                        reason: "the connection ended".to_owned(),
                        awaited: awaited.to_owned(),
                    });
                }
                Ok(Some(Err(e))) => return Err(e.into()),
                Ok(Some(Ok(message))) => message,
            };
            match message {
                Message::Text(text) => {
                    let packet: Value = serde_json::from_str(&text)
                        .map_err(|e| TestError::BadPacket(format!("{e}: {text}")))?;
                    if !packet.is_object() || !packet["event"].is_string() {
                        return Err(TestError::BadPacket(text.to_string()));
                    }
                    if packet["event"] == "ping" {
                        // The server closes a connection that stops answering.
                        self.send(json!({ "event": "pong", "data": {} })).await?;
                        continue;
                    }
                    return Ok(packet);
                }
                Message::Close(frame) => {
                    return Err(TestError::Closed {
                        code: frame.as_ref().map(|f| u16::from(f.code)),
                        reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                        awaited: awaited.to_owned(),
                    });
                }
                Message::Binary(_) => {
                    return Err(TestError::BadPacket("a binary frame".to_owned()));
                }
                // tungstenite answers WebSocket pings itself.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }
}

#[cfg(all(test, feature = "macros"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Switchboard;
    use crate::prelude::*;

    /// `harness.{key}`: joinable with the key `open`; `count` answers with a count,
    /// `shout` broadcasts, `fail` fails.
    #[derive(ChannelListener, Default)]
    #[channel("harness.{key}")]
    struct Harness {
        seen: std::sync::atomic::AtomicU64,
    }

    #[channel_events]
    impl Harness {
        async fn is_authorised(&self, conn: &Connection) -> Result<(), SocketError> {
            match conn.param("key") {
                Some("open") => Ok(()),
                _ => Err(SocketError::unauthorised("wrong key")),
            }
        }

        pub async fn count(&self) -> Result<Value, SocketError> {
            let n = self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            Ok(json!({ "count": n }))
        }

        pub async fn shout(&self, ctx: EventContext) -> Result<(), SocketError> {
            ctx.broadcast("shouted", &json!({}))?;
            Ok(())
        }

        pub async fn fail(&self) -> Result<(), SocketError> {
            Err(SocketError::new("asked to fail"))
        }
    }

    const SECRET: &str = "harness-secret-that-is-at-least-32-bytes";

    #[actix_web::test]
    async fn subscribe_emit_ack_and_expectations() {
        let server = start(Switchboard::builder(settings())).unwrap();
        let mut a = TestClient::connect(&server).await.unwrap();
        let mut b = TestClient::connect(&server).await.unwrap();
        assert!(!a.connection_id().is_empty());
        assert_eq!(a.ready()["connection_id"], a.connection_id());
        assert_eq!(a.user_id(), None);

        match a.subscribe("harness.shut").await {
            Err(TestError::Refused { reason, .. }) => {
                assert_eq!(reason.as_deref(), Some("unauthorised"));
            }
            other => panic!("a refused subscription must be an error: {other:?}"),
        }
        assert_eq!(
            a.subscribe("harness.open").await.unwrap(),
            json!({"channel": "harness.open", "successful": true})
        );
        b.subscribe("harness.open").await.unwrap();

        assert_eq!(
            a.emit_with_ack("harness.open", "count", json!({}))
                .await
                .unwrap(),
            json!({"count": 1})
        );
        match a.emit_with_ack("harness.open", "fail", json!({})).await {
            Err(TestError::Refused { code, message, .. }) => {
                assert_eq!(
                    (code.as_str(), message.as_str()),
                    ("handler_error", "asked to fail")
                );
            }
            other => panic!("a failed handler must be an error: {other:?}"),
        }
        // The failure's `error` packet went with its ack: nothing is left over.
        a.assert_nothing_before(&server, "marker").await.unwrap();

        a.emit("harness.open", "shout", json!({})).await.unwrap();
        let shouted = b.expect_event("shouted").await.unwrap();
        assert_eq!(shouted["channel"], "harness.open");
        a.expect_channel_event("harness.open", "shouted")
            .await
            .unwrap();

        // Something arrived before the marker: the assertion fails and names it.
        a.emit("harness.open", "shout", json!({})).await.unwrap();
        b.expect_event("shouted").await.unwrap();
        match a.assert_nothing_before(&server, "marker").await {
            Err(TestError::Unexpected { packet, .. }) => assert_eq!(packet["event"], "shouted"),
            other => panic!("an unexpected packet must fail the assertion: {other:?}"),
        }

        a.set_timeout(Duration::from_millis(200));
        match a.expect_event("never").await {
            Err(TestError::Timeout { awaited, .. }) => assert!(awaited.contains("never")),
            other => panic!("a missing event must time out: {other:?}"),
        }
        // The marker that arrived meanwhile was kept, not lost.
        assert_eq!(a.next_packet().await.unwrap()["event"], "marker");
        assert!(a.unsubscribe("harness.open").await.unwrap());
        assert!(!a.unsubscribe("harness.open").await.unwrap());
        server.stop().await;
    }

    #[actix_web::test]
    async fn tokens_identify_users_and_bad_ones_are_refused() {
        let server = start(Switchboard::builder(jwt_settings(SECRET))).unwrap();
        let token = dev_token(SECRET, "alice").unwrap();
        let alice = TestClient::connect_with_token(&server, &token)
            .await
            .unwrap();
        assert_eq!(alice.user_id(), Some("alice"));

        match TestClient::connect(&server).await {
            Err(TestError::Refused { code, .. }) => assert_eq!(code, "401"),
            other => panic!("an anonymous connection must be refused: {other:?}"),
        }
        let forged = dev_token("another-secret-that-is-at-least-32-bytes", "alice").unwrap();
        match TestClient::connect_with_token(&server, &forged).await {
            Err(TestError::Refused { code, reason, .. }) => {
                assert_eq!(code, "401");
                assert!(reason.is_some(), "the server's error code is kept");
            }
            other => panic!("a badly signed token must be refused: {other:?}"),
        }
        alice.close().await.unwrap();
        server.stop().await;
    }

    #[actix_web::test]
    async fn heartbeats_are_answered_and_skipped() {
        let mut s = settings();
        s.heartbeat.interval_secs = 1;
        s.heartbeat.timeout_secs = 2;
        let server = start(Switchboard::builder(s)).unwrap();
        let mut client = TestClient::connect(&server).await.unwrap();
        // Past the heartbeat timeout: the client answered every ping (else 4000) and
        // returned none of them.
        client.expect_nothing(Duration::from_secs(3)).await.unwrap();
        client
            .assert_nothing_before(&server, "marker")
            .await
            .unwrap();

        server
            .server()
            .send_to_connection(client.connection_id(), "bye", &json!({}))
            .unwrap();
        match client.expect_nothing(Duration::from_secs(1)).await {
            Err(TestError::Unexpected { packet, .. }) => assert_eq!(packet["event"], "bye"),
            other => panic!("a packet must break the silence: {other:?}"),
        }
        server.stop().await;
    }
}
