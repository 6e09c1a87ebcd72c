//! Channel listeners: subscribing, dispatch, isolation, ordering, acks and errors.
//! Written with the harness applications use, `switchboard::testing`.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::eventually;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard::config::Settings;
use switchboard::prelude::*;
use switchboard::testing::{self, TestClient, TestError};
use switchboard::{Running, Switchboard};

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

/// A server with the demo's user resolver beside this file's listeners.
fn start(settings: Settings) -> Result<Running, TestError> {
    testing::start(Switchboard::builder(settings).resolve_users(switchboard_app::user::Users))
}

#[actix_web::test]
async fn subscribe_broadcast_unsubscribe() -> Result<(), TestError> {
    let server = start(testing::settings())?;
    let mut a = TestClient::connect(&server).await?;
    let mut b = TestClient::connect(&server).await?;
    assert_eq!(
        a.subscribe("global-chat").await?,
        json!({"channel": "global-chat", "successful": true})
    );
    b.subscribe("global-chat").await?;

    a.emit("global-chat", "message", json!({"message": "hi"}))
        .await?;
    let expected = json!({"event": "message", "channel": "global-chat", "data": {"message": "hi", "from": "anonymous"}});
    assert_eq!(
        a.next_packet().await?,
        expected,
        "the sender receives a broadcast too"
    );
    assert_eq!(b.next_packet().await?, expected);

    assert!(b.unsubscribe("global-chat").await?);
    a.emit("global-chat", "message", json!({"message": "again"}))
        .await?;
    a.expect_event("message").await?;
    b.assert_nothing_before(&server, "marker").await?;

    // Leaving twice is answered, not an error; events need the subscription again.
    assert!(!b.unsubscribe("global-chat").await?);
    match b
        .emit_with_ack("global-chat", "message", json!({"message": "x"}))
        .await
    {
        Err(TestError::Refused { code, .. }) => assert_eq!(code, "not_subscribed"),
        other => panic!("an event on a channel left must be refused: {other:?}"),
    }
    server.stop().await;
    Ok(())
}

/// The `reason` and `message` of a refused subscription.
async fn refusal(client: &mut TestClient, channel: &str) -> (Option<String>, String) {
    match client.subscribe(channel).await {
        Err(TestError::Refused {
            reason, message, ..
        }) => (reason, message),
        other => panic!("{channel} must be refused: {other:?}"),
    }
}

#[actix_web::test]
async fn refused_subscriptions_give_a_reason() -> Result<(), TestError> {
    let mut s = testing::settings();
    s.limits.max_subscriptions = 2;
    let server = start(s)?;
    let mut c = TestClient::connect(&server).await?;

    let (reason, _) = refusal(&mut c, "nowhere.at.all").await;
    assert_eq!(reason.as_deref(), Some("unknown_channel"));
    let (reason, message) = refusal(&mut c, "bad name!").await;
    assert_eq!(reason.as_deref(), Some("unknown_channel"));
    assert!(message.contains("invalid channel name"), "{message}");

    let (reason, message) = refusal(&mut c, "vault.closed").await;
    assert_eq!(
        (reason.as_deref(), message.as_str()),
        (Some("unauthorised"), "wrong key")
    );
    c.subscribe("vault.open").await?;

    c.subscribe("room.1").await?;
    let (reason, _) = refusal(&mut c, "room.2").await;
    assert_eq!(reason.as_deref(), Some("too_many_subscriptions"));
    // Joining a channel already joined is not a new subscription.
    c.subscribe("room.1").await?;
    assert_eq!(server.server().stats().subscriptions, 2);
    server.stop().await;
    Ok(())
}

#[actix_web::test]
async fn concrete_channels_of_one_pattern_are_isolated() -> Result<(), TestError> {
    let server = start(testing::settings())?;
    let mut one_a = TestClient::connect(&server).await?;
    let mut one_b = TestClient::connect(&server).await?;
    let mut two = TestClient::connect(&server).await?;
    one_a.subscribe("room.1").await?;
    one_b.subscribe("room.1").await?;
    two.subscribe("room.2").await?;

    one_a
        .emit("room.1", "message", json!({"message": "secret"}))
        .await?;
    assert_eq!(
        one_b.next_packet().await?,
        json!({"event": "message", "channel": "room.1", "data": {"message": "secret", "from": "anonymous"}})
    );
    // room.* broadcasts except the sender; room.2 hears nothing.
    one_a.assert_nothing_before(&server, "marker").await?;
    two.assert_nothing_before(&server, "marker").await?;
    server.stop().await;
    Ok(())
}

#[actix_web::test]
async fn one_channel_handles_events_in_order_even_when_handlers_take_varying_time()
-> Result<(), TestError> {
    let server = start(testing::settings())?;
    let mut sender = TestClient::connect(&server).await?;
    let mut watcher = TestClient::connect(&server).await?;
    sender.subscribe("counter.order").await?;
    watcher.subscribe("counter.order").await?;
    for seq in 0..100u64 {
        let sleep_ms = (seq * 7) % 5; // later events often finish faster than earlier ones
        sender
            .emit(
                "counter.order",
                "step",
                json!({"seq": seq, "sleep_ms": sleep_ms}),
            )
            .await?;
    }
    for seq in 0..100u64 {
        let packet = watcher.next_packet().await?;
        assert_eq!(packet["data"]["seq"], seq, "{packet}");
    }
    server.stop().await;
    Ok(())
}

#[actix_web::test]
async fn each_concrete_channel_keeps_its_own_state_and_acks_carry_values() -> Result<(), TestError>
{
    let server = start(testing::settings())?;
    let mut c = TestClient::connect(&server).await?;
    c.subscribe("counter.a").await?;
    c.subscribe("counter.b").await?;
    for (channel, count) in [("counter.a", 1), ("counter.a", 2), ("counter.b", 1)] {
        assert_eq!(
            c.emit_with_ack(channel, "count", json!({})).await?,
            json!({"channel": channel, "count": count})
        );
    }
    // An event without an id is handled without an ack.
    c.emit("counter.a", "count", json!({})).await?;
    assert_eq!(
        c.emit_with_ack("counter.a", "count", json!({})).await?["count"],
        4
    );
    c.assert_nothing_before(&server, "marker").await?;
    server.stop().await;
    Ok(())
}

#[actix_web::test]
async fn every_dispatch_error_has_its_code() -> Result<(), TestError> {
    let server = start(testing::settings())?;
    let mut c = TestClient::connect(&server).await?;
    c.subscribe("counter.e").await?;

    // The wire as it is: an `error` packet, then the ack.
    c.send(json!({"event": "nope", "channel": "counter.e", "id": 1}))
        .await?;
    let error = c.next_packet().await?;
    assert_eq!(error["data"]["code"], "unknown_event");
    assert_eq!(error["data"]["channel"], "counter.e");
    assert_eq!(
        c.next_packet().await?["data"]["error"]["code"],
        "unknown_event"
    );

    match c
        .emit_with_ack("counter.e", "step", json!({"seq": "one"}))
        .await
    {
        Err(TestError::Refused { code, message, .. }) => {
            assert_eq!(code, "bad_payload");
            assert!(message.starts_with("`data.seq`: invalid type"), "{message}");
        }
        other => panic!("a bad payload must be refused: {other:?}"),
    }

    c.emit("counter.e", "step", json!({})).await?;
    let message = c.expect_event("error").await?["data"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("missing field `seq`"), "{message}");

    c.send(json!({"event": "fail-please", "channel": "counter.e", "id": 3}))
        .await?;
    let error = c.next_packet().await?;
    assert_eq!(error["data"]["code"], "handler_error");
    assert_eq!(error["data"]["message"], "asked to fail");
    assert_eq!(error["data"]["event"], "fail-please");
    let ack = c.next_packet().await?;
    assert_eq!(
        ack["data"],
        json!({"id": 3, "ok": false, "error": {"code": "handler_error", "message": "asked to fail"}})
    );
    c.assert_nothing_before(&server, "marker").await?;
    server.stop().await;
    Ok(())
}

#[actix_web::test]
async fn a_socket_listener_answers_the_sender_only() -> Result<(), TestError> {
    let server = start(testing::settings())?;
    let mut a = TestClient::connect(&server).await?;
    let mut b = TestClient::connect(&server).await?;
    assert_eq!(
        a.emit_direct_with_ack("echo", json!({"x": [1, 2]})).await?,
        Value::Null
    );
    // The handler's answer was sent before its ack, and kept while the ack was awaited.
    assert_eq!(
        a.next_packet().await?,
        json!({"event": "pong-back", "data": {"x": [1, 2]}})
    );
    b.assert_nothing_before(&server, "marker").await?;
    server.stop().await;
    Ok(())
}

#[actix_web::test]
async fn the_index_is_empty_after_a_thousand_connections_come_and_go() -> Result<(), TestError> {
    let server = start(testing::settings())?;
    let handle = server.server().clone();
    // In waves, to stay far below any file-descriptor limit.
    for wave in 0..5 {
        let mut clients = Vec::new();
        for i in 0..200 {
            let mut c = TestClient::connect(&server).await?;
            c.subscribe(&format!("room.{}", i % 17)).await?;
            c.subscribe("global-chat").await?;
            if i % 3 == 0 {
                c.subscribe(&format!("counter.w{wave}")).await?;
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
        for (i, c) in clients.into_iter().enumerate() {
            if i % 2 == 0 {
                let _ = c.close().await;
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
    Ok(())
}
