//! Helpers shared by the integration tests: a real server on 127.0.0.1:0 and a real
//! WebSocket client that speaks protocol v1.
#![allow(dead_code, clippy::unwrap_used)] // each test binary uses a different subset

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use switchboard::config::Settings;
use switchboard::{Running, Switchboard};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for something the server should do promptly.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// Settings for tests: one worker, anonymous connections (auth tests opt in to JWT).
pub fn settings() -> Settings {
    let mut s = Settings::default();
    s.server.workers = 1;
    s.middleware.clear();
    s.auth.allow_anonymous = true;
    s
}

pub async fn start(settings: Settings) -> Running {
    Switchboard::new(settings)
        .expect("valid settings")
        .start("127.0.0.1:0")
        .expect("server binds")
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub connection_id: String,
}

impl Client {
    /// Connects and waits for `ready`, which must be the first packet.
    pub async fn connect(server: &Running) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(server.ws_url())
            .await
            .expect("websocket handshake");
        let mut client = Client {
            ws,
            connection_id: String::new(),
        };
        let ready = client.recv().await;
        assert_eq!(
            ready["event"], "ready",
            "first packet must be ready: {ready}"
        );
        client.connection_id = ready["data"]["connection_id"]
            .as_str()
            .expect("ready carries connection_id")
            .to_owned();
        client
    }

    pub async fn send(&mut self, packet: Value) {
        self.ws
            .send(Message::text(packet.to_string()))
            .await
            .expect("send");
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.ws.send(message).await.expect("send");
    }

    /// The next frame of any kind.
    pub async fn frame(&mut self) -> Message {
        tokio::time::timeout(PATIENCE, self.ws.next())
            .await
            .expect("a frame within the patience window")
            .expect("stream still open")
            .expect("frame decodes")
    }

    /// The next packet, skipping heartbeat pings and WebSocket control frames.
    pub async fn recv(&mut self) -> Value {
        loop {
            match self.frame().await {
                Message::Text(text) => {
                    let packet: Value = serde_json::from_str(&text).expect("server sends JSON");
                    if packet["event"] != "ping" {
                        return packet;
                    }
                }
                Message::Close(frame) => panic!("closed while waiting for a packet: {frame:?}"),
                _ => {}
            }
        }
    }

    /// The next packet whose event is `event`, skipping others.
    pub async fn recv_event(&mut self, event: &str) -> Value {
        loop {
            let packet = self.recv().await;
            if packet["event"] == event {
                return packet;
            }
        }
    }

    /// Reads until the server's close frame and returns its code.
    pub async fn closed_with(&mut self) -> u16 {
        loop {
            match tokio::time::timeout(PATIENCE * 2, self.ws.next()).await {
                Ok(Some(Ok(Message::Close(Some(CloseFrame { code, .. }))))) => return code.into(),
                Ok(Some(Ok(Message::Close(None)))) => return 1005,
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(e))) => panic!("connection failed before a close frame: {e}"),
                Ok(None) => panic!("connection ended without a close frame"),
                Err(_) => panic!("no close frame within {:?}", PATIENCE * 2),
            }
        }
    }
}

impl Client {
    /// Subscribes and returns the `subscribe-channel-response` data.
    pub async fn subscribe(&mut self, channel: &str) -> Value {
        self.send(
            serde_json::json!({"event": "subscribe-channel-request", "data": {"channel": channel}}),
        )
        .await;
        self.recv_event("subscribe-channel-response").await["data"].clone()
    }

    /// Subscribes and asserts it succeeded.
    pub async fn join(&mut self, channel: &str) {
        let response = self.subscribe(channel).await;
        assert_eq!(
            response["successful"], true,
            "joining {channel}: {response}"
        );
    }

    /// Asserts no packet arrives before `marker`, which the test sends to this client
    /// through the server after everything else: what was not received by then never
    /// will be.
    pub async fn assert_nothing_before(&mut self, server: &Running, marker: &str) {
        server
            .server()
            .send_to_connection(&self.connection_id, marker, &serde_json::json!({}))
            .expect("marker delivered");
        let packet = self.recv().await;
        assert_eq!(packet["event"], marker, "unexpected packet: {packet}");
    }
}

/// Polls `check` until it holds or the patience window ends.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE * 2;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
