//! A client that stops reading: raw TCP, a handshake and a subscribe, then silence,
//! with a receive buffer as small as the kernel allows.

use std::net::SocketAddr;

use serde_json::json;
use switchboard::SocketServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::{PATIENCE, token_for};

/// A client that completes the handshake as `sub`, joins `global-chat`, then never
/// reads again, with a receive buffer as small as the kernel allows.
pub async fn reader_that_stops(addr: SocketAddr, sub: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let mut tcp = handshake(socket.connect(addr).await.expect("connects"), addr, sub).await;
    let subscribe =
        json!({"event": "subscribe-channel-request", "data": {"channel": "global-chat"}});
    tcp.write_all(&masked_text(subscribe.to_string().as_bytes()))
        .await
        .expect("subscribe");
    read_until(&mut tcp, b"subscribe-channel-response").await;
    tcp
}

/// A raw client that completed the handshake as `sub` and read `ready`.
pub async fn raw_client(addr: SocketAddr, sub: &str) -> TcpStream {
    handshake(TcpStream::connect(addr).await.expect("connects"), addr, sub).await
}

/// Upgrades `tcp` as `sub` (token in the query) and reads up to `ready`.
async fn handshake(mut tcp: TcpStream, addr: SocketAddr, sub: &str) -> TcpStream {
    tcp.write_all(&upgrade_request(addr, "/ws", sub))
        .await
        .expect("request");
    read_until(&mut tcp, b"\"ready\"").await;
    tcp
}

/// The bytes of a WebSocket upgrade request for `path` as `sub` (token in the query).
pub fn upgrade_request(addr: SocketAddr, path: &str, sub: &str) -> Vec<u8> {
    let token = token_for(sub, json!({"name": sub}));
    format!(
        "GET {path}?token={token} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

/// A masked client close frame with `code` (sent as it is, valid or not).
pub fn masked_close(code: u16) -> Vec<u8> {
    let mut frame = vec![0x88, 0x80 | 2, 0, 0, 0, 0];
    frame.extend_from_slice(&code.to_be_bytes());
    frame
}

/// Reads until the server's close frame and returns its code, byte for byte (a
/// WebSocket library would judge and rewrite an invalid one).
pub async fn server_close_code(tcp: &mut TcpStream) -> u16 {
    let mut seen = Vec::new();
    let code = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        loop {
            // Server frames are unmasked; a close frame with a code is 0x88, len, code.
            let at = seen.windows(2).position(|w| w[0] == 0x88 && w[1] >= 2);
            if let Some(at) = at.filter(|at| seen.len() >= at + 4) {
                return u16::from_be_bytes([seen[at + 2], seen[at + 3]]);
            }
            let n = tcp.read(&mut buf).await.expect("reads");
            assert!(n > 0, "closed without a close frame");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    code.expect("a close frame")
}

/// Reads until `needle` has arrived (the handshake and the first packets).
pub async fn read_until(tcp: &mut TcpStream, needle: &[u8]) {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 1024];
        while !seen.windows(needle.len()).any(|w| w == needle) {
            let n = tcp.read(&mut buf).await.expect("reads");
            assert!(n > 0, "closed before {:?}", String::from_utf8_lossy(needle));
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(
        found.is_ok(),
        "{:?} never came",
        String::from_utf8_lossy(needle)
    );
}

/// One client text frame (clients must mask; a zero mask keeps the bytes as they are).
pub fn masked_text(payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x81];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(payload);
    frame
}

/// Broadcasts 1 KiB messages on `global-chat` until the server has more queued for a
/// client than the kernel's buffers hold.
pub fn flood(server: &SocketServer, messages: usize) {
    let blob = "x".repeat(1024);
    for i in 0..messages {
        let _ = server.broadcast("global-chat", "message", &json!({"i": i, "blob": blob}));
    }
}
