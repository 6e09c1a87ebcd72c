//! Size limits and the bounded outbound queue.

mod common;

use std::time::Duration;

use common::{Client, eventually, settings, start};
use serde_json::json;
use switchboard::SendError;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

#[actix_web::test]
async fn a_message_over_the_limit_closes_with_1009() {
    let mut s = settings();
    s.limits.max_message_bytes = 1024;
    let server = start(s).await;
    let mut client = Client::connect(&server).await;
    let big = json!({"event": "x", "data": "a".repeat(2000)}).to_string();
    client.send_raw(Message::text(big)).await;
    assert_eq!(client.closed_with().await, 1009);
    eventually("the session is removed", || {
        server.server().stats().connections == 0
    })
    .await;
    server.stop().await;
}

#[actix_web::test]
async fn fragments_adding_up_past_the_limit_close_with_1009() {
    let mut s = settings();
    s.limits.max_message_bytes = 1024;
    let server = start(s).await;
    let mut client = Client::connect(&server).await;
    let part = vec![b'a'; 600]; // each frame is under the limit, the message is not
    client
        .send_raw(Message::Frame(Frame::message(
            part.clone(),
            OpCode::Data(Data::Text),
            false,
        )))
        .await;
    client
        .send_raw(Message::Frame(Frame::message(
            part,
            OpCode::Data(Data::Continue),
            true,
        )))
        .await;
    assert_eq!(client.closed_with().await, 1009);
    server.stop().await;
}

#[actix_web::test]
async fn invalid_utf8_text_closes_with_1007() {
    let server = start(settings()).await;
    let mut client = Client::connect(&server).await;
    client
        .send_raw(Message::Frame(Frame::message(
            vec![b'{', 0xff, 0xfe, b'}'],
            OpCode::Data(Data::Text),
            true,
        )))
        .await;
    assert_eq!(client.closed_with().await, 1007);
    server.stop().await;
}

#[actix_web::test]
async fn a_client_that_stops_reading_is_closed_with_4008_and_forgotten() {
    let mut s = settings();
    s.limits.outbound_queue = 8;
    let server = start(s).await;
    let mut client = Client::connect(&server).await;
    let handle = server.server().clone();
    let chunk = json!({"blob": "x".repeat(64 * 1024)});

    // The client reads nothing while the server keeps sending: kernel buffers, then
    // actix-ws's buffer, then our queue of 8 fill, and the queue refuses.
    let mut refused = None;
    for sent in 0..20_000 {
        match handle.send_to_connection(&client.connection_id, "bulk", &chunk) {
            Ok(()) => {}
            Err(e) => {
                refused = Some((sent, e));
                break;
            }
        }
        if sent % 16 == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await; // let the writer drain
        }
    }
    let (sent, error) = refused.expect("the outbound queue must refuse a client that never reads");
    assert!(matches!(error, SendError::SlowConsumer(_)), "{error:?}");
    // The queue is closed for good: later sends are refused without queueing.
    assert!(
        handle
            .send_to_connection(&client.connection_id, "bulk", &chunk)
            .is_err()
    );
    println!("queue refused after {sent} frames of 64 KiB");

    // Reading again drains what was in flight, then the close frame.
    assert_eq!(client.closed_with().await, 4008);
    eventually("the slow session is removed", || {
        handle.stats().connections == 0
    })
    .await;
    assert!(matches!(
        handle.send_to_connection(&client.connection_id, "bulk", &chunk),
        Err(SendError::UnknownConnection(_))
    ));
    server.stop().await;
}
