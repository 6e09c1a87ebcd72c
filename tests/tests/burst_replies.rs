//! A client that reads promptly but sends a burst whose replies outnumber the outbound
//! queue is slowed down (its packets wait in TCP while the queue is over half full), not
//! closed as a slow consumer.

mod common;

use common::*;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

#[actix_web::test]
async fn a_burst_whose_replies_exceed_the_queue_is_answered_in_full() {
    let server = start(settings()).await; // outbound_queue 256, generous rate limits
    let mut client = Client::connect(&server).await;
    // 300 echoes with ids: 600 replies (pong-back and ack each), sent at once. The
    // client reads all the while (`frame` below).
    for id in 0..300 {
        client
            .send(json!({"event": "echo", "data": {}, "id": id}))
            .await;
    }
    let mut replies = 0;
    loop {
        match client.frame().await {
            Message::Text(_) => {
                replies += 1;
                if replies == 600 {
                    break;
                }
            }
            Message::Close(frame) => {
                panic!("closed after {replies} of 600 replies although it reads: {frame:?}")
            }
            _ => {}
        }
    }
    server.stop().await;
}
