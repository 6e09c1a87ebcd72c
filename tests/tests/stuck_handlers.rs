//! Handlers that never finish: they are cut off after `limits.handler_timeout_secs`
//! (`handler_error`, reason `timeout`), a busy channel refuses events past
//! `limits.channel_queue` (`overloaded`) instead of queueing them without bound, and a
//! subscribe whose authorisation hangs times out while the session goes on.

mod common;

use common::{Client, settings, start};
use serde_json::{Value, json};
use switchboard::prelude::*;
use tokio_tungstenite::tungstenite::Message;

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

/// `guarded.{id}`: an authorisation that never answers.
#[derive(ChannelListener, Default, Debug)]
#[channel("guarded.{id}")]
struct Guarded;

#[channel_events]
impl Guarded {
    async fn is_authorised(&self) -> bool {
        std::future::pending::<bool>().await
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

#[actix_web::test]
async fn a_busy_channel_refuses_events_instead_of_queueing_without_bound() {
    const SENT: u64 = 20;
    const QUEUE: u64 = 4;
    let mut s = settings();
    s.limits.channel_queue = QUEUE as usize;
    let server = start(s).await; // handler timeout 30 s: the first event holds the actor
    let mut client = Client::connect(&server).await;
    client.join("stalling.2").await;
    for id in 0..SENT {
        client
            .send(json!({"event": "stall", "channel": "stalling.2", "data": {}, "id": id}))
            .await;
    }
    // One event runs, QUEUE wait; every other one is refused at once, error then ack.
    let mut refused = Vec::new();
    for _ in 0..(SENT - 1 - QUEUE) {
        let error = client.recv().await;
        assert_eq!(error["data"]["code"], "overloaded", "{error}");
        let ack = client.recv().await;
        assert_eq!(ack["data"]["error"]["code"], "overloaded", "{ack}");
        refused.push(ack["data"]["id"].as_u64().expect("an id"));
    }
    let expected: Vec<u64> = (1 + QUEUE..SENT).collect();
    assert_eq!(refused, expected, "the events past the queue, in order");
    client.assert_nothing_before(&server, "marker").await;
    server.stop().await;
}

#[actix_web::test]
async fn a_subscribe_whose_authorisation_hangs_times_out_while_heartbeats_go_on() {
    let mut s = settings();
    s.limits.handler_timeout_secs = 3;
    s.heartbeat.interval_secs = 1;
    s.heartbeat.timeout_secs = 10;
    let server = start(s).await;
    let mut client = Client::connect(&server).await;
    client
        .send(json!({"event": "subscribe-channel-request", "data": {"channel": "guarded.1"}, "id": 1}))
        .await;
    // The session still pings while the authorisation hangs.
    let first = loop {
        if let Message::Text(text) = client.frame().await {
            break serde_json::from_str::<Value>(&text).expect("JSON");
        }
    };
    assert_eq!(first["event"], "ping", "{first}");
    let response = client.recv_event("subscribe-channel-response").await;
    assert_eq!(response["data"]["successful"], false, "{response}");
    assert_eq!(response["data"]["reason"], "timeout");
    let ack = client.recv_event("ack").await;
    assert_eq!(ack["data"]["error"]["code"], "unauthorised", "{ack}");
    assert_eq!(ack["data"]["error"]["reason"], "timeout");
    // And the connection goes on.
    client.send(json!({"event": "echo", "data": {}})).await;
    client.recv_event("pong-back").await;
    server.stop().await;
}
