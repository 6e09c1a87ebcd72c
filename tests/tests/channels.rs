//! Channel listeners: subscribing, dispatch, isolation, ordering, acks and errors.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{Client, eventually, settings, start};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard::prelude::*;

// The demo app's listeners (global-chat, user:chat.{id}, room.{id}, echo) are linked
// through this crate, and these test listeners sit beside them.
use switchboard_app as _;

/// Counts events per concrete channel; answers acks with the count.
#[derive(ChannelListener, Default)]
#[channel("counter.{name}")]
struct Counter {
    seen: AtomicU64,
}

#[derive(Deserialize)]
struct Step {
    seq: u64,
    #[serde(default)]
    sleep_ms: u64,
}

#[channel_events]
impl Counter {
    /// Returns a value: it becomes the ack's data.
    pub async fn count(&self, ctx: EventContext) -> Result<Value, SocketError> {
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(json!({"channel": ctx.channel(), "count": n}))
    }

    /// Sleeps a variable time, then echoes `seq` on the channel: order must hold anyway.
    pub async fn step(&self, ctx: EventContext, packet: Packet<Step>) -> Result<(), SocketError> {
        tokio::time::sleep(Duration::from_millis(packet.data.sleep_ms)).await;
        ctx.broadcast("stepped", &json!({"seq": packet.data.seq}))?;
        Ok(())
    }

    #[event("fail-please")]
    pub async fn fail(&self) -> Result<(), SocketError> {
        Err(SocketError::new("asked to fail"))
    }
}

/// `vault.{key}`: joinable only with the key `open`; says why otherwise.
#[derive(ChannelListener, Default)]
#[channel("vault.{key}")]
struct Vault;

#[channel_events]
impl Vault {
    async fn is_authorised(&self, conn: &Connection) -> Result<(), SocketError> {
        match conn.param("key") {
            Some("open") => Ok(()),
            _ => Err(SocketError::unauthorised("wrong key")),
        }
    }
}

#[actix_web::test]
async fn subscribe_broadcast_unsubscribe() {
    let server = start(settings()).await;
    let mut a = Client::connect(&server).await;
    let mut b = Client::connect(&server).await;
    assert_eq!(
        a.subscribe("global-chat").await,
        json!({"channel": "global-chat", "successful": true})
    );
    b.join("global-chat").await;

    a.send(json!({"event": "message", "channel": "global-chat", "data": {"message": "hi"}}))
        .await;
    let expected = json!({"event": "message", "channel": "global-chat", "data": {"message": "hi", "from": "anonymous"}});
    assert_eq!(
        a.recv().await,
        expected,
        "the sender receives a broadcast too"
    );
    assert_eq!(b.recv().await, expected);

    b.send(json!({"event": "unsubscribe-channel-request", "channel": "global-chat", "data": {"channel": "global-chat"}}))
        .await;
    assert_eq!(
        b.recv().await,
        json!({"event": "unsubscribe-channel-response", "data": {"channel": "global-chat", "successful": true}})
    );
    a.send(json!({"event": "message", "channel": "global-chat", "data": {"message": "again"}}))
        .await;
    a.recv_event("message").await;
    b.assert_nothing_before(&server, "marker").await;

    // Leaving twice is answered, not an error; events need the subscription again.
    b.send(json!({"event": "unsubscribe-channel-request", "data": {"channel": "global-chat"}}))
        .await;
    assert_eq!(b.recv().await["data"]["successful"], false);
    b.send(json!({"event": "message", "channel": "global-chat", "data": {"message": "x"}}))
        .await;
    let error = b.recv().await;
    assert_eq!(error["data"]["code"], "not_subscribed");
    server.stop().await;
}

#[actix_web::test]
async fn refused_subscriptions_give_a_reason() {
    let mut s = settings();
    s.limits.max_subscriptions = 2;
    let server = start(s).await;
    let mut c = Client::connect(&server).await;

    let r = c.subscribe("nowhere.at.all").await;
    assert_eq!(
        (r["successful"].clone(), r["reason"].clone()),
        (json!(false), json!("unknown_channel"))
    );
    let r = c.subscribe("bad name!").await;
    assert_eq!(r["reason"], "unknown_channel");
    assert!(
        r["message"]
            .as_str()
            .is_some_and(|m| m.contains("invalid channel name")),
        "{r}"
    );

    let r = c.subscribe("vault.closed").await;
    assert_eq!(r["reason"], "unauthorised");
    assert_eq!(r["message"], "wrong key");
    c.join("vault.open").await;

    c.join("room.1").await;
    let r = c.subscribe("room.2").await;
    assert_eq!(r["reason"], "too_many_subscriptions");
    // Joining a channel already joined is not a new subscription.
    c.join("room.1").await;
    assert_eq!(server.server().stats().subscriptions, 2);
    server.stop().await;
}

#[actix_web::test]
async fn concrete_channels_of_one_pattern_are_isolated() {
    let server = start(settings()).await;
    let mut one_a = Client::connect(&server).await;
    let mut one_b = Client::connect(&server).await;
    let mut two = Client::connect(&server).await;
    one_a.join("room.1").await;
    one_b.join("room.1").await;
    two.join("room.2").await;

    one_a
        .send(json!({"event": "message", "channel": "room.1", "data": {"message": "secret"}}))
        .await;
    assert_eq!(
        one_b.recv().await,
        json!({"event": "message", "channel": "room.1", "data": {"message": "secret", "from": "anonymous"}})
    );
    // room.* broadcasts except the sender; room.2 hears nothing.
    one_a.assert_nothing_before(&server, "marker").await;
    two.assert_nothing_before(&server, "marker").await;
    server.stop().await;
}

#[actix_web::test]
async fn one_channel_handles_events_in_order_even_when_handlers_take_varying_time() {
    let server = start(settings()).await;
    let mut sender = Client::connect(&server).await;
    let mut watcher = Client::connect(&server).await;
    sender.join("counter.order").await;
    watcher.join("counter.order").await;
    for seq in 0..100u64 {
        let sleep_ms = (seq * 7) % 5; // later events often finish faster than earlier ones
        sender
            .send(json!({"event": "step", "channel": "counter.order", "data": {"seq": seq, "sleep_ms": sleep_ms}}))
            .await;
    }
    for seq in 0..100u64 {
        let packet = watcher.recv().await;
        assert_eq!(packet["data"]["seq"], seq, "{packet}");
    }
    server.stop().await;
}

#[actix_web::test]
async fn each_concrete_channel_keeps_its_own_state_and_acks_carry_values() {
    let server = start(settings()).await;
    let mut c = Client::connect(&server).await;
    c.join("counter.a").await;
    c.join("counter.b").await;
    for (id, channel, count) in [
        (1, "counter.a", 1),
        (2, "counter.a", 2),
        (3, "counter.b", 1),
    ] {
        c.send(json!({"event": "count", "channel": channel, "id": id}))
            .await;
        let ack = c.recv().await;
        assert_eq!(
            ack,
            json!({"event": "ack", "data": {"id": id, "ok": true, "data": {"channel": channel, "count": count}}})
        );
    }
    // An event without an id is handled without an ack.
    c.send(json!({"event": "count", "channel": "counter.a"}))
        .await;
    c.send(json!({"event": "count", "channel": "counter.a", "id": 4}))
        .await;
    assert_eq!(c.recv().await["data"]["data"]["count"], 4);
    server.stop().await;
}

#[actix_web::test]
async fn every_dispatch_error_has_its_code() {
    let server = start(settings()).await;
    let mut c = Client::connect(&server).await;
    c.join("counter.e").await;

    c.send(json!({"event": "nope", "channel": "counter.e", "id": 1}))
        .await;
    let error = c.recv().await;
    assert_eq!(error["data"]["code"], "unknown_event");
    assert_eq!(error["data"]["channel"], "counter.e");
    assert_eq!(c.recv().await["data"]["error"]["code"], "unknown_event");

    c.send(json!({"event": "step", "channel": "counter.e", "data": {"seq": "one"}, "id": 2}))
        .await;
    let error = c.recv().await;
    assert_eq!(error["data"]["code"], "bad_payload");
    let message = error["data"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("`data.seq`: invalid type"), "{message}");
    assert_eq!(c.recv().await["data"]["id"], 2);

    c.send(json!({"event": "step", "channel": "counter.e", "data": {}}))
        .await;
    let message = c.recv().await["data"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("missing field `seq`"), "{message}");

    c.send(json!({"event": "fail-please", "channel": "counter.e", "id": 3}))
        .await;
    let error = c.recv().await;
    assert_eq!(error["data"]["code"], "handler_error");
    assert_eq!(error["data"]["message"], "asked to fail");
    assert_eq!(error["data"]["event"], "fail-please");
    let ack = c.recv().await;
    assert_eq!(
        ack["data"],
        json!({"id": 3, "ok": false, "error": {"code": "handler_error", "message": "asked to fail"}})
    );
    server.stop().await;
}

#[actix_web::test]
async fn a_socket_listener_answers_the_sender_only() {
    let server = start(settings()).await;
    let mut a = Client::connect(&server).await;
    let mut b = Client::connect(&server).await;
    a.send(json!({"event": "echo", "data": {"x": [1, 2]}, "id": 9}))
        .await;
    assert_eq!(
        a.recv().await,
        json!({"event": "pong-back", "data": {"x": [1, 2]}})
    );
    assert_eq!(
        a.recv().await["data"],
        json!({"id": 9, "ok": true, "data": null})
    );
    b.assert_nothing_before(&server, "marker").await;
    server.stop().await;
}

#[actix_web::test]
async fn the_index_is_empty_after_a_thousand_connections_come_and_go() {
    let server = start(settings()).await;
    let handle = server.server().clone();
    // In waves, to stay far below any file-descriptor limit.
    for wave in 0..5 {
        let mut clients = Vec::new();
        for i in 0..200 {
            let mut c = Client::connect(&server).await;
            c.join(&format!("room.{}", i % 17)).await;
            c.join("global-chat").await;
            if i % 3 == 0 {
                c.join(&format!("counter.w{wave}")).await;
            }
            clients.push(c);
        }
        // The previous wave's vanished clients may still be on their way out: the
        // counts settle at this wave's, they need not be exact at once.
        eventually(
            "this wave's connections, channels and actors, exactly",
            || {
                let stats = handle.stats();
                (stats.connections, stats.channels, stats.channel_actors) == (200, 17 + 1 + 1, 19)
            },
        )
        .await;
        // Half leave politely, half just vanish.
        for (i, mut c) in clients.into_iter().enumerate() {
            if i % 2 == 0 {
                let _ = futures_util::SinkExt::close(&mut c.ws).await;
            }
        }
    }
    eventually(
        "every connection, subscription and channel actor is gone",
        || {
            let s = handle.stats();
            (
                s.connections,
                s.users,
                s.channels,
                s.subscriptions,
                s.channel_actors,
            ) == (0, 0, 0, 0, 0)
        },
    )
    .await;
    server.stop().await;
}
