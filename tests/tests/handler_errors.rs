//! What a client reads when a handler fails: the message the handler chose, or a
//! generic one when an error converted with `?` (its text is logged, not sent).

mod common;

use common::{Client, settings, start};
use serde_json::{Value, json};
use switchboard::prelude::*;

/// `leak`: fails with an error whose text must stay on the server.
#[derive(SocketListener, Default, Debug)]
#[event("leak")]
struct Leak;

#[socket_handler]
impl Leak {
    async fn handle(&self, _packet: Packet<Value>) -> Result<(), SocketError> {
        Err(std::io::Error::other(
            "connection to postgres://app:hunter2@db:5432 refused",
        ))?;
        Ok(())
    }
}

/// `full`: fails with a message chosen for the client.
#[derive(SocketListener, Default, Debug)]
#[event("full")]
struct Full;

#[socket_handler]
impl Full {
    async fn handle(&self, _packet: Packet<Value>) -> Result<(), SocketError> {
        Err(SocketError::new("the room is full"))
    }
}

#[actix_web::test]
async fn an_internal_error_text_is_not_sent_to_the_client() {
    let server = start(settings()).await;
    let mut client = Client::connect(&server).await;
    client
        .send(json!({"event": "leak", "data": {}, "id": 1}))
        .await;
    let error = client.recv().await;
    assert_eq!(error["data"]["code"], "handler_error", "{error}");
    assert_eq!(error["data"]["message"], "the handler failed");
    let ack = client.recv().await;
    assert!(!ack.to_string().contains("hunter2"), "{ack}");
    server.stop().await;
}

#[actix_web::test]
async fn a_message_the_handler_chose_is_sent_as_it_is() {
    let server = start(settings()).await;
    let mut client = Client::connect(&server).await;
    client.send(json!({"event": "full", "data": {}})).await;
    let error = client.recv().await;
    assert_eq!(error["data"]["message"], "the room is full", "{error}");
    server.stop().await;
}
