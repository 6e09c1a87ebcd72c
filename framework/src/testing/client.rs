//! [`TestClient`]: one WebSocket connection speaking the protocol, like one browser tab.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::TestError;
use crate::Running;

/// How long a [`TestClient`] waits for a packet unless told otherwise
/// ([`TestClient::set_timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

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
    /// [`settings`](super::settings) does) and waits for `ready`.
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
    use crate::testing::{dev_token, jwt_settings, settings, start};

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
