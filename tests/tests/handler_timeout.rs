//! A handler that never finishes is cut off after `limits.handler_timeout_secs`: the
//! client gets `handler_error` with reason `timeout`, and the connection (or the
//! channel) goes on.

mod common;

use common::{Client, settings, start};
use serde_json::{Value, json};
use switchboard::prelude::*;

/// `stall`: a socket listener that never answers.
#[derive(SocketListener, Default, Debug)]
#[event("stall")]
struct Stall;

#[socket_handler]
impl Stall {
    async fn handle(&self, _packet: Packet<Value>) -> Result<(), SocketError> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// `stalling.{id}`: event `stall` never finishes, event `ping_me` answers at once.
#[derive(ChannelListener, Default, Debug)]
#[channel("stalling.{id}")]
struct Stalling;

#[channel_events]
impl Stalling {
    pub async fn stall(&self, _packet: Packet<Value>) -> Result<(), SocketError> {
        std::future::pending::<()>().await;
        Ok(())
    }

    pub async fn ping_me(&self, ctx: EventContext) -> Result<(), SocketError> {
        ctx.reply("pinged", &json!({}))?;
        Ok(())
    }
}

fn one_second_handlers() -> switchboard::config::Settings {
    let mut s = settings();
    s.limits.handler_timeout_secs = 1;
    s
}

#[actix_web::test]
async fn a_socket_listener_that_never_finishes_is_cut_off_and_the_session_goes_on() {
    let server = start(one_second_handlers()).await;
    let mut client = Client::connect(&server).await;
    client
        .send(json!({"event": "stall", "data": {}, "id": 7}))
        .await;
    let error = client.recv().await;
    assert_eq!(error["event"], "error", "{error}");
    assert_eq!(error["data"]["code"], "handler_error");
    assert_eq!(error["data"]["reason"], "timeout");
    assert_eq!(error["data"]["event"], "stall");
    let ack = client.recv().await;
    assert_eq!(ack["data"]["id"], 7);
    assert_eq!(ack["data"]["ok"], false);
    assert_eq!(ack["data"]["error"]["reason"], "timeout");
    // The session handles the next packet.
    client
        .send(json!({"event": "echo", "data": {"still": "here"}}))
        .await;
    assert_eq!(
        client.recv().await,
        json!({"event": "pong-back", "data": {"still": "here"}})
    );
    server.stop().await;
}

#[actix_web::test]
async fn a_channel_event_that_never_finishes_is_cut_off_and_the_channel_goes_on() {
    let server = start(one_second_handlers()).await;
    let mut client = Client::connect(&server).await;
    client.join("stalling.1").await;
    client
        .send(json!({"event": "stall", "channel": "stalling.1", "data": {}}))
        .await;
    let error = client.recv().await;
    assert_eq!(error["data"]["code"], "handler_error", "{error}");
    assert_eq!(error["data"]["reason"], "timeout");
    assert_eq!(error["data"]["channel"], "stalling.1");
    // The channel's actor handles its next event.
    client
        .send(json!({"event": "ping_me", "channel": "stalling.1", "data": {}}))
        .await;
    let answer = client.recv().await;
    assert_eq!(answer["event"], "pinged", "{answer}");
    server.stop().await;
}
