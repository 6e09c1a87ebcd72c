//! The server's own account of what it holds: `GET /switchboard/api/stats` of its HTTP API.

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The counts that must all be zero once every client has left.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStats {
    pub connections: u64,
    pub users: u64,
    pub channels: u64,
    pub subscriptions: u64,
    pub channel_actors: u64,
}

impl ServerStats {
    /// Nothing left: no connection, user, channel, subscription or channel actor.
    pub fn is_idle(&self) -> bool {
        *self == Self::default()
    }
}

/// `GET /switchboard/api/stats` at `addr` (`host:port`) with the API key.
pub async fn fetch_stats(addr: &str, key: &str) -> Result<ServerStats, String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("stats: connect {addr}: {e}"))?;
    let request = format!(
        "GET /switchboard/api/stats HTTP/1.1\r\nHost: {addr}\r\nX-Api-Key: {key}\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("stats: {e}"))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|e| format!("stats: {e}"))?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("stats: not an HTTP response: {text:.200}"))?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("stats: {head:.200}"));
    }
    serde_json::from_str(body).map_err(|e| format!("stats: {e}: {body:.200}"))
}
