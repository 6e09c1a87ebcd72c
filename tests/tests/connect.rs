//! Connecting, `ready`, heartbeats and closing.

mod common;

use std::time::Duration;

use common::{Client, eventually, settings, start};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[actix_web::test]
async fn ready_is_the_first_packet_and_names_the_connection() {
    let server = start(settings()).await;
    let mut a = Client::connect(&server).await;
    let b = Client::connect(&server).await;
    assert_ne!(a.connection_id, b.connection_id);
    assert!(
        a.connection_id
            .starts_with(server.server().node_id().as_str())
    );
    assert_eq!(server.server().stats().connections, 2);

    // `send_to_connection` reaches exactly that connection.
    server
        .server()
        .send_to_connection(&a.connection_id, "hello", &json!({"n": 1}))
        .expect("delivered");
    assert_eq!(a.recv().await, json!({"event": "hello", "data": {"n": 1}}));
    server.stop().await;
}

#[actix_web::test]
async fn ready_carries_a_null_user_for_anonymous_connections() {
    let server = start(settings()).await;
    let client = Client::connect(&server).await;
    assert_eq!(client.ready["data"]["user_id"], serde_json::Value::Null);
    assert!(client.ready.get("channel").is_none(), "{}", client.ready);
    server.stop().await;
}

#[actix_web::test]
async fn json_ping_is_answered_with_pong_and_keeps_the_connection() {
    let mut s = settings();
    s.heartbeat.interval_secs = 1;
    s.heartbeat.timeout_secs = 2;
    let server = start(s).await;
    let mut client = Client::connect(&server).await;
    // Answer three pings in a row: well past the 2 s timeout, still connected.
    for _ in 0..3 {
        loop {
            if let Message::Text(text) = client.frame().await {
                let packet: serde_json::Value = serde_json::from_str(&text).expect("json");
                if packet["event"] == "ping" {
                    assert_eq!(packet, json!({"event": "ping", "data": {}}));
                    break;
                }
            }
        }
        client.send(json!({"event": "pong", "data": {}})).await;
    }
    client.send(json!({"event": "pong", "id": 1})).await;
    let ack = client.recv_event("ack").await;
    assert_eq!(ack["data"], json!({"id": 1, "ok": true, "data": null}));
    server.stop().await;
}

#[actix_web::test]
async fn websocket_ping_frames_are_answered_and_keep_the_connection() {
    let mut s = settings();
    s.heartbeat.interval_secs = 1;
    s.heartbeat.timeout_secs = 2;
    let server = start(s).await;
    let mut client = Client::connect(&server).await;
    for round in 0..4u8 {
        client.send_raw(Message::Ping(vec![round].into())).await;
        loop {
            match client.frame().await {
                Message::Pong(payload) => {
                    assert_eq!(&payload[..], &[round]);
                    break;
                }
                Message::Close(frame) => panic!("closed although it pinged: {frame:?}"),
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    server.stop().await;
}

#[actix_web::test]
async fn a_silent_client_is_closed_with_4000() {
    let mut s = settings();
    s.heartbeat.interval_secs = 1;
    s.heartbeat.timeout_secs = 2;
    let server = start(s).await;
    let mut client = Client::connect(&server).await;
    assert_eq!(client.closed_with().await, 4000);
    eventually("the session is removed", || {
        server.server().stats().connections == 0
    })
    .await;
    server.stop().await;
}

#[actix_web::test]
async fn a_client_close_is_echoed_and_the_session_removed() {
    let server = start(settings()).await;
    let mut client = Client::connect(&server).await;
    client
        .send_raw(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        })))
        .await;
    assert_eq!(client.closed_with().await, 1000);
    eventually("the session is removed", || {
        server.server().stats().connections == 0
    })
    .await;
    server.stop().await;
}

#[actix_web::test]
async fn disabled_mounts_nothing() {
    let mut s = settings();
    s.enabled = false;
    let server = start(s).await;
    let refused = tokio_tungstenite::connect_async(server.ws_url()).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 404);
        }
        other => panic!("expected 404, got {other:?}"),
    }
    server.stop().await;
}
