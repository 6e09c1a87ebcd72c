//! Malformed input gets an `error` packet and the connection stays usable.

mod common;

use common::{Client, settings, start};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

async fn expect_error(client: &mut Client, code: &str) -> serde_json::Value {
    let packet = client.recv().await;
    assert_eq!(packet["event"], "error", "{packet}");
    assert_eq!(packet["data"]["code"], code, "{packet}");
    assert!(
        packet["data"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    packet
}

#[actix_web::test]
async fn each_malformed_packet_gets_its_error_code_and_the_connection_survives() {
    let server = start(settings()).await;
    let mut client = Client::connect(&server).await;

    client.send_raw(Message::text("not json")).await;
    expect_error(&mut client, "bad_json").await;

    client.send_raw(Message::text("[1,2,3]")).await;
    let e = expect_error(&mut client, "bad_packet").await;
    assert_eq!(
        e["data"]["message"],
        "a packet must be a JSON object, not an array"
    );

    client.send(json!({"data": {"x": 1}})).await;
    let e = expect_error(&mut client, "bad_packet").await;
    assert_eq!(e["data"]["message"], "missing `event`");

    client.send(json!({"event": 42})).await;
    expect_error(&mut client, "bad_packet").await;

    client.send_raw(Message::binary(vec![1u8, 2, 3])).await;
    expect_error(&mut client, "bad_packet").await;

    // A server-only reserved event sent by a client.
    client.send(json!({"event": "ready"})).await;
    let e = expect_error(&mut client, "bad_packet").await;
    assert_eq!(e["data"]["event"], "ready");

    // Still connected and answering.
    client.send(json!({"event": "pong", "id": 7})).await;
    let ack = client.recv().await;
    assert_eq!(
        ack,
        json!({"event": "ack", "data": {"id": 7, "ok": true, "data": null}})
    );
    assert_eq!(server.server().stats().connections, 1);
    server.stop().await;
}

#[actix_web::test]
async fn a_refused_packet_with_an_id_is_also_acked() {
    let server = start(settings()).await;
    let mut client = Client::connect(&server).await;
    client
        .send(json!({"event": "nobody-listens", "id": 3}))
        .await;
    let e = expect_error(&mut client, "unknown_event").await;
    assert_eq!(e["data"]["event"], "nobody-listens");
    let ack = client.recv().await;
    assert_eq!(ack["event"], "ack");
    assert_eq!(ack["data"]["id"], 3);
    assert_eq!(ack["data"]["ok"], false);
    assert_eq!(ack["data"]["error"]["code"], "unknown_event");

    // A broken packet whose id is still readable gets its ack too.
    client
        .send(json!({"id": 4, "event": "x", "channel": 5}))
        .await;
    expect_error(&mut client, "bad_packet").await;
    let ack = client.recv().await;
    assert_eq!(ack["data"]["id"], 4);
    assert_eq!(ack["data"]["error"]["code"], "bad_packet");
    server.stop().await;
}

#[actix_web::test]
async fn channel_packets_need_a_subscription() {
    let server = start(settings()).await;
    let mut client = Client::connect(&server).await;
    client
        .send(json!({"event": "message", "channel": "global-chat"}))
        .await;
    let e = expect_error(&mut client, "not_subscribed").await;
    assert_eq!(e["data"]["channel"], "global-chat");

    client
        .send(json!({"event": "subscribe-channel-request", "data": {}}))
        .await;
    expect_error(&mut client, "bad_payload").await;
    server.stop().await;
}

#[actix_web::test]
async fn fragmented_messages_are_reassembled() {
    let server = start(settings()).await;
    let mut client = Client::connect(&server).await;
    let text = json!({"event": "pong", "id": 11}).to_string();
    let (a, rest) = text.split_at(5);
    let (b, c) = rest.split_at(5);
    for (part, opcode, fin) in [
        (a, OpCode::Data(Data::Text), false),
        (b, OpCode::Data(Data::Continue), false),
        (c, OpCode::Data(Data::Continue), true),
    ] {
        client
            .send_raw(Message::Frame(Frame::message(
                part.as_bytes().to_vec(),
                opcode,
                fin,
            )))
            .await;
    }
    let ack = client.recv().await;
    assert_eq!(ack["data"]["id"], 11);
    server.stop().await;
}

#[actix_web::test]
async fn a_close_code_no_endpoint_may_send_is_answered_with_1002_not_echoed() {
    use common::raw::{masked_close, raw_client, server_close_code};
    use tokio::io::AsyncWriteExt;
    let server = start(common::jwt_settings()).await;
    for reserved in [1005u16, 1006, 1015, 999, 1004, 1016, 2000, 5000] {
        let mut tcp = raw_client(server.addr(), "closer").await;
        tcp.write_all(&masked_close(reserved)).await.expect("sent");
        assert_eq!(
            server_close_code(&mut tcp).await,
            1002,
            "client sent {reserved}"
        );
    }
    let mut tcp = raw_client(server.addr(), "closer").await;
    tcp.write_all(&masked_close(4321)).await.expect("sent");
    assert_eq!(
        server_close_code(&mut tcp).await,
        4321,
        "a valid code is echoed"
    );
    server.stop().await;
}
