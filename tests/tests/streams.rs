//! Streams on one node (memory backplane): positions, history, recovery on subscribe,
//! and publications racing a subscribe.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::streams::{publish, subscribe_since};
use common::{Client, eventually, settings, start};
use serde_json::{Value, json};
use switchboard::config::HistoryChannel;
use switchboard::prelude::*;
use switchboard::{StartError, Switchboard};

use switchboard_app as _;

/// A stream that keeps its last 100 publications; `post` broadcasts on it.
#[derive(ChannelListener, Default)]
#[channel("feed.{id}", history(size = 100, ttl = "10m"))]
struct Feed;

#[channel_events]
impl Feed {
    pub async fn post(&self, ctx: EventContext, packet: Packet<Value>) -> Result<(), SocketError> {
        ctx.broadcast("message", &packet.data)?;
        Ok(())
    }
}

/// A stream that keeps only its last 5.
#[derive(ChannelListener, Default)]
#[channel("short.{id}", history(size = 5, ttl = "10m"))]
struct Short;

#[channel_events]
impl Short {}

/// A stream that keeps everything a race test publishes.
#[derive(ChannelListener, Default)]
#[channel("race.{id}", history(size = 5000, ttl = "10m"))]
struct Race;

#[channel_events]
impl Race {}

/// Many short-lived streams: kept one second.
#[derive(ChannelListener, Default)]
#[channel("burst.{id}", history(size = 2, ttl = "1s"))]
struct Burst;

#[channel_events]
impl Burst {}

/// No history declared: a stream only when the configuration says so.
#[derive(ChannelListener, Default)]
#[channel("plain.{id}")]
struct Plain;

#[channel_events]
impl Plain {}

fn build(settings: switchboard::config::Settings) -> Result<Switchboard, StartError> {
    Switchboard::builder(settings)
        .resolve_users(switchboard_app::user::Users)
        .build()
}

/// The next `count` messages: their `n`, and the offsets they carry.
async fn messages(client: &mut Client, count: usize) -> Vec<(u64, u64)> {
    let mut seen = Vec::with_capacity(count);
    while seen.len() < count {
        let packet = client.recv_event("message").await;
        let n = packet["data"]["n"].as_u64().expect("n");
        let offset = packet["offset"]
            .as_u64()
            .expect("every publication has an offset");
        assert!(packet["epoch"].is_string(), "and an epoch: {packet}");
        seen.push((n, offset));
    }
    seen
}

#[actix_web::test]
async fn a_client_that_comes_back_with_since_gets_exactly_what_it_missed_then_live_ones() {
    let server = start(settings()).await;
    let mut alice = Client::connect(&server).await;
    let joined = subscribe_since(&mut alice, "feed.r1", None).await;
    assert_eq!(joined["successful"], true, "{joined}");
    assert_eq!(joined["offset"], 0, "nothing published yet: {joined}");
    let epoch = joined["epoch"].as_str().expect("an epoch").to_owned();
    assert!(
        joined.get("recovered").is_none(),
        "no since, no recovery: {joined}"
    );
    for n in 1..=3 {
        publish(&server, "feed.r1", n);
    }
    assert_eq!(messages(&mut alice, 3).await, [(1, 1), (2, 2), (3, 3)]);
    drop(alice);

    // 50 publications while Alice is away: from the server and from a listener.
    for n in 4..=28 {
        publish(&server, "feed.r1", n);
    }
    let mut bob = Client::connect(&server).await;
    bob.join("feed.r1").await;
    for n in 29..=53 {
        bob.send(json!({"event": "post", "channel": "feed.r1", "data": {"n": n}}))
            .await;
    }
    assert_eq!(messages(&mut bob, 25).await.last(), Some(&(53, 53)));

    let mut alice = Client::connect(&server).await;
    let back = subscribe_since(&mut alice, "feed.r1", Some((3, &epoch))).await;
    assert_eq!(back["recovered"], true, "{back}");
    assert_eq!(back["missed"], 50, "{back}");
    assert_eq!(back["offset"], 53, "{back}");
    assert_eq!(back["epoch"], epoch.as_str(), "{back}");
    let missed = messages(&mut alice, 50).await;
    let expected: Vec<(u64, u64)> = (4..=53).map(|n| (n, n)).collect();
    assert_eq!(missed, expected, "exactly the 50, in order");
    publish(&server, "feed.r1", 54);
    assert_eq!(
        messages(&mut alice, 1).await,
        [(54, 54)],
        "then live ones, next offset"
    );
    alice.assert_nothing_before(&server, "marker").await;
    server.stop().await;
}

/// A publisher on another thread never stops while clients subscribe (with and without
/// `since`): every client gets its answer before any publication, then every offset
/// after its position once, in order.
#[actix_web::test]
async fn publications_racing_a_subscribe_are_neither_lost_nor_repeated() {
    let mut s = settings();
    s.server.workers = 2;
    // The clients read only once everything is published.
    s.limits.outbound_queue = 16_384;
    s.limits.outbound_queue_bytes = 32 << 20;
    let server = start(s).await;
    let sockets = server.server().clone();
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = std::thread::spawn({
        let stop = stop.clone();
        move || {
            let mut n = 0u64;
            // At most 4000: the race stream keeps 5000, and a subscriber recovers all.
            while (!stop.load(Ordering::Relaxed) || n < 200) && n < 4000 {
                n += 1;
                sockets
                    .broadcast("race.x", "message", &json!({ "n": n }))
                    .expect("broadcast");
                if n.is_multiple_of(20) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            n
        }
    });
    let mut watchers = Vec::new();
    let mut first_epoch: Option<String> = None;
    for i in 0..12 {
        let mut client = Client::connect(&server).await;
        // Every other client asks to recover from the start of the stream.
        let since = first_epoch
            .as_deref()
            .filter(|_| i % 2 == 1)
            .map(|e| (0, e));
        let joined = subscribe_since(&mut client, "race.x", since).await;
        let epoch = joined["epoch"].as_str().expect("epoch").to_owned();
        first_epoch.get_or_insert(epoch);
        let from = if joined["recovered"] == true {
            0
        } else {
            joined["offset"].as_u64().expect("offset")
        };
        watchers.push((client, from));
    }
    stop.store(true, Ordering::Relaxed);
    let last = publisher.join().expect("publisher");
    let recovered = watchers.iter().filter(|(_, from)| *from == 0).count();
    assert!(recovered >= 6, "the clients with `since` recovered");
    for (mut client, from) in watchers {
        let seen = messages(&mut client, (last - from) as usize).await;
        let offsets: Vec<u64> = seen.iter().map(|(_, offset)| *offset).collect();
        let expected: Vec<u64> = (from + 1..=last).collect();
        assert_eq!(offsets, expected, "a client positioned at {from}");
        client.assert_nothing_before(&server, "marker").await;
    }
    server.stop().await;
}

#[actix_web::test]
async fn another_epoch_a_trimmed_past_and_a_future_offset_are_not_recovered() {
    let server = start(settings()).await;
    let mut client = Client::connect(&server).await;
    let joined = subscribe_since(&mut client, "short.a", None).await;
    let epoch = joined["epoch"].as_str().expect("epoch").to_owned();
    for n in 1..=10 {
        publish(&server, "short.a", n);
    }
    messages(&mut client, 10).await;
    for (since, why) in [
        ((4, epoch.as_str()), "trimmed: only 6..10 are kept"),
        ((2, "another-epoch"), "another epoch"),
        ((11, epoch.as_str()), "ahead of the stream"),
    ] {
        let mut other = Client::connect(&server).await;
        let answer = subscribe_since(&mut other, "short.a", Some(since)).await;
        assert_eq!(answer["successful"], true, "{why}: {answer}");
        assert_eq!(answer["recovered"], false, "{why}: {answer}");
        assert!(answer.get("missed").is_none(), "{why}: {answer}");
        assert_eq!(answer["offset"], 10, "{why}: the position to re-fetch from");
        other.assert_nothing_before(&server, "marker").await;
    }
    let mut last = Client::connect(&server).await;
    let answer = subscribe_since(&mut last, "short.a", Some((5, &epoch))).await;
    assert_eq!(answer["recovered"], true, "6..10 are kept: {answer}");
    assert_eq!(messages(&mut last, 5).await.first(), Some(&(6, 6)));
    server.stop().await;
}

#[actix_web::test]
async fn a_malformed_since_is_refused_naming_the_field_and_the_connection_stays() {
    let server = start(settings()).await;
    let mut client = Client::connect(&server).await;
    for (since, field) in [
        (json!({"offset": -1, "epoch": "e"}), "data.since.offset"),
        (json!({"offset": "3", "epoch": "e"}), "data.since.offset"),
        (json!({"offset": 3, "epoch": 7}), "data.since.epoch"),
    ] {
        client
            .send(json!({"event": "subscribe-channel-request", "id": 9,
                         "data": {"channel": "feed.m", "since": since}}))
            .await;
        let error = client.recv_event("error").await;
        assert_eq!(error["data"]["code"], "bad_payload", "{error}");
        let message = error["data"]["message"].as_str().expect("message");
        assert!(message.contains(field), "{message} names {field}");
    }
    assert_eq!(server.server().stats().subscriptions, 0);
    client.join("feed.m").await;
    server.stop().await;
}

#[actix_web::test]
async fn a_channel_without_history_answers_as_before() {
    let server = start(settings()).await;
    let mut client = Client::connect(&server).await;
    let joined = subscribe_since(&mut client, "plain.x", Some((3, "e"))).await;
    assert_eq!(joined, json!({"channel": "plain.x", "successful": true}));
    publish(&server, "plain.x", 1);
    let packet = client.recv_event("message").await;
    assert!(packet.get("offset").is_none(), "{packet}");
    server.stop().await;
}

#[actix_web::test]
async fn the_configuration_makes_a_pattern_a_stream_and_names_a_wrong_one() {
    let mut s = settings();
    s.history.channels = vec![HistoryChannel::new("plain.{id}", 10, 60)];
    let server = start(s).await;
    let mut client = Client::connect(&server).await;
    let joined = subscribe_since(&mut client, "plain.x", None).await;
    assert_eq!(joined["offset"], 0, "{joined}");
    publish(&server, "plain.x", 1);
    assert_eq!(messages(&mut client, 1).await, [(1, 1)]);
    server.stop().await;

    let mut s = settings();
    s.history.channels = vec![HistoryChannel::new("plain.*", 10, 60)];
    let error = build(s).expect_err("no listener has that pattern");
    let error = error.to_string();
    assert!(error.contains("history.channels[0].pattern"), "{error}");
    assert!(error.contains("plain.{id}"), "lists the patterns: {error}");
}

#[actix_web::test]
async fn ten_thousand_short_lived_streams_are_freed_once_their_ttl_has_passed() {
    let server = start(settings()).await;
    for i in 0..10_000 {
        publish(&server, &format!("burst.{i}"), 1);
    }
    let stats = server.server().stats();
    assert_eq!(stats.streams, 10_000);
    assert!(stats.history_bytes > 10_000 * 40, "{stats:?}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    publish(&server, "burst.last", 1); // any access frees what expired
    eventually("the expired streams are freed", || {
        let stats = server.server().stats();
        stats.streams == 1 && stats.history_bytes < 200
    })
    .await;
    server.stop().await;
}
