//! Helpers shared by the integration tests: a real server on 127.0.0.1:0 and a real
//! WebSocket client that speaks protocol v1.

#![allow(dead_code, clippy::unwrap_used)] // each test binary uses a different subset

pub mod postgres;
pub mod raw;
pub mod redis;
pub mod streams;
pub mod writers;

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

/// Settings for tests: one worker, anonymous connections (auth tests opt in to JWT),
/// rate limits out of the way (`switchboard::testing`'s).
pub fn settings() -> Settings {
    switchboard::testing::settings()
}

/// A server with the demo's listeners and user resolver (referencing the demo crate
/// here also links its listener registrations into every test binary).
pub async fn start(settings: Settings) -> Running {
    Switchboard::builder(settings)
        .resolve_users(switchboard_app::user::Users)
        .build()
        .expect("valid settings")
        .start("127.0.0.1:0")
        .expect("server binds")
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub connection_id: String,
    /// The whole `ready` packet, as received.
    pub ready: Value,
}

impl Client {
    /// Connects and waits for `ready`, which must be the first packet.
    pub async fn connect(server: &Running) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(server.ws_url())
            .await
            .expect("websocket handshake");
        Client::after_handshake(ws).await
    }

    /// Reads `ready`, which must be the very first frame (not even a ping before it).
    pub async fn after_handshake(ws: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Client {
        let mut client = Client {
            ws,
            connection_id: String::new(),
            ready: Value::Null,
        };
        let first = client.frame().await;
        let ready: Value = serde_json::from_str(first.to_text().expect("a text frame first"))
            .expect("server sends JSON");
        assert_eq!(
            ready["event"], "ready",
            "first packet must be ready: {ready}"
        );
        client.connection_id = ready["data"]["connection_id"]
            .as_str()
            .expect("ready carries connection_id")
            .to_owned();
        client.ready = ready;
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

/// A HMAC secret long enough for the `jwt` middleware.
pub const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

/// Settings with the `jwt` middleware on and anonymous connections refused.
pub fn jwt_settings() -> Settings {
    switchboard::testing::jwt_settings(SECRET)
}

/// Seconds since the epoch, shifted by `offset`.
pub fn now_plus(offset: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64;
    now + offset
}

/// An HS256 token for `sub`, valid for an hour, with extra claims merged in.
pub fn token_for(sub: &str, extra: Value) -> String {
    let mut claims = serde_json::json!({ "sub": sub, "exp": now_plus(3600) });
    if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
        claims.extend(extra.clone());
    }
    sign(
        jsonwebtoken::Algorithm::HS256,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        &claims,
    )
}

pub fn sign(
    alg: jsonwebtoken::Algorithm,
    key: &jsonwebtoken::EncodingKey,
    claims: &Value,
) -> String {
    jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), claims, key).expect("token signs")
}

/// Tries a handshake; Ok(client) or Err((status, JSON body)).
pub async fn try_connect(
    server: &Running,
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
) -> Result<Client, (u16, Value)> {
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => {
            let _ = server;
            Ok(Client::after_handshake(ws).await)
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            Err((status, body))
        }
        Err(e) => panic!("handshake failed outside HTTP: {e}"),
    }
}

/// A client request for the server's endpoint, with `?token=` when given.
pub fn request(
    server: &Running,
    token: Option<&str>,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = match token {
        Some(token) => format!("{}?token={token}", server.ws_url()),
        None => server.ws_url(),
    };
    url.into_client_request().expect("valid url")
}

/// A client request for `url` as it is.
pub fn request_to(url: &str) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    url.into_client_request().expect("valid url")
}

/// Connects as `sub` with a fresh token.
pub async fn connect_as(server: &Running, sub: &str) -> Client {
    let token = token_for(sub, serde_json::json!({"name": sub}));
    match try_connect(server, request(server, Some(&token))).await {
        Ok(client) => client,
        Err((status, body)) => panic!("{sub} refused: {status} {body}"),
    }
}

/// One HTTP answer, read whole.
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// Every header, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
}

impl Response {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.1 request over a fresh connection, enough for the small APIs the
/// tests call (no client library needed).
pub async fn http_raw(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> Response {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut response = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut response))
        .await
        .expect("response in time")
        .expect("reads");
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let content_type = headers
        .iter()
        .find(|(name, _)| name == "content-type")
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    Response {
        status,
        content_type,
        body: body.to_owned(),
        headers,
    }
}

/// [`http_raw`] with a JSON body; returns the status and the JSON answer (Null when
/// the answer is not JSON).
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let body = body.map(Value::to_string).unwrap_or_default();
    let response = http_raw(addr, method, path, &body, headers).await;
    (
        response.status,
        serde_json::from_str(&response.body).unwrap_or(Value::Null),
    )
}

/// The demo's `POST /api/token` for `name`: a development token.
pub async fn dev_token(server: &Running, name: &str) -> String {
    let (status, body) = http(
        server.addr(),
        "POST",
        "/api/token",
        Some(&serde_json::json!({ "name": name })),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().expect("token").to_owned()
}
