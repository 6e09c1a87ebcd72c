//! Switchboard's own server takes each WebSocket connection over from actix's HTTP
//! dispatcher after the upgrade: what the dispatcher had already read is not lost,
//! and the requests it hands over that are not for the endpoint are answered.

mod common;

use common::raw::{masked_text, read_until, upgrade_request};
use common::{jwt_settings, start};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `request` on a fresh connection and reads the server's answer until it closes.
async fn answer(server: &switchboard::Running, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(server.addr()).await.expect("connects");
    tcp.write_all(request).await.expect("request");
    let mut response = Vec::new();
    tokio::time::timeout(common::PATIENCE, tcp.read_to_end(&mut response))
        .await
        .expect("the server closes after answering")
        .expect("reads");
    String::from_utf8_lossy(&response).into_owned()
}

/// A client may send its first packet in the same segment as its request head; the
/// dispatcher has read it by the time it hands the socket over.
#[actix_web::test]
async fn a_packet_sent_with_the_request_head_is_answered() {
    let server = start(jwt_settings()).await;
    let mut tcp = TcpStream::connect(server.addr()).await.expect("connects");
    let subscribe =
        json!({"event": "subscribe-channel-request", "data": {"channel": "global-chat"}});
    let mut bytes = upgrade_request(server.addr(), "/ws", "alice");
    bytes.extend_from_slice(&masked_text(subscribe.to_string().as_bytes()));
    tcp.write_all(&bytes).await.expect("one write");
    read_until(&mut tcp, b"subscribe-channel-response").await;
    assert_eq!(server.server().stats().subscriptions, 1);
    server.stop().await;
}

/// The dispatcher hands over every request that asks for an upgrade, whatever its
/// path: one for another path is refused as the route would be (404, JSON reason).
#[actix_web::test]
async fn an_upgrade_for_another_path_is_answered_404_with_a_reason() {
    let server = start(jwt_settings()).await;
    let response = answer(
        &server,
        &upgrade_request(server.addr(), "/elsewhere", "alice"),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    assert!(
        response.contains(r#""code":"not_found""#),
        "the reason: {response}"
    );
    assert_eq!(server.server().stats().connections, 0);
    server.stop().await;
}

/// A refused handshake on the taken-over path keeps the route's status and reason.
#[actix_web::test]
async fn a_refused_token_is_answered_401_with_a_reason_and_the_socket_closed() {
    let server = start(jwt_settings()).await;
    let request = format!(
        "GET /ws?token=not-a-jwt HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n",
        server.addr()
    );
    let response = answer(&server, request.as_bytes()).await;

    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(
        response.contains("content-type: application/json"),
        "{response}"
    );
    assert!(
        response.contains(r#""code":"#),
        "a machine-readable reason: {response}"
    );
    server.stop().await;
}
