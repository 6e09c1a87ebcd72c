//! Streams across nodes on Redis: one order and one history for every node, recovery
//! on any node, a lost history told as such, and gaps repaired on the server.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::redis::{RedisServer, Reply, node, node_with};
use common::streams::{
    connect_since, notifications, notify, publish, ready_position, reconnects_racing_sends,
    subscribe_since,
};
use common::{Client, connect_as};
use serde_json::json;
use switchboard::prelude::*;

use switchboard_app as _;

/// A stream that keeps its last 1000 publications.
#[derive(ChannelListener, Default)]
#[channel("feed.{id}", history(size = 1000, ttl = "10m"))]
struct Feed;

#[channel_events]
impl Feed {}

/// The offsets of the next `count` publications (a `resync` fails the test).
async fn offsets(client: &mut Client, count: usize) -> Vec<u64> {
    let mut seen = Vec::with_capacity(count);
    while seen.len() < count {
        let packet = client.recv().await;
        assert_ne!(packet["event"], "resync", "{packet}");
        if packet["event"] == "message" {
            seen.push(packet["offset"].as_u64().expect("an offset"));
        }
    }
    seen
}

#[actix_web::test]
async fn a_client_recovers_on_the_other_node_what_both_nodes_published_while_it_was_away() {
    let redis = RedisServer::start();
    let (a, b) = (node(&redis).await, node(&redis).await);
    let mut alice = connect_as(&a, "alice").await;
    let joined = subscribe_since(&mut alice, "feed.r1", None).await;
    assert_eq!(joined["offset"], 0, "{joined}");
    let epoch = joined["epoch"].as_str().expect("epoch").to_owned();
    publish(&b, "feed.r1", 1);
    assert_eq!(offsets(&mut alice, 1).await, [1], "from the other node");
    drop(alice);
    for n in 2..=51 {
        publish(if n % 2 == 0 { &a } else { &b }, "feed.r1", n);
    }
    redis.await_stream_offset("feed.r1", 51).await;
    let mut alice = connect_as(&b, "alice").await;
    let back = subscribe_since(&mut alice, "feed.r1", Some((1, &epoch))).await;
    assert_eq!(back["recovered"], true, "{back}");
    assert_eq!(back["missed"], 50, "{back}");
    assert_eq!(back["offset"], 51, "{back}");
    assert_eq!(offsets(&mut alice, 50).await, (2..=51).collect::<Vec<_>>());
    publish(&a, "feed.r1", 52);
    assert_eq!(offsets(&mut alice, 1).await, [52], "then live ones");
    alice.assert_nothing_before(&a, "marker").await;
}

#[actix_web::test]
async fn two_nodes_publishing_at_once_give_one_gapless_order_seen_alike_everywhere() {
    let redis = RedisServer::start();
    // The subscribers read only once all 600 are published.
    let mut settings = common::jwt_settings();
    settings.limits.outbound_queue = 2048;
    let (a, b) = (
        node_with(&redis, settings.clone()).await,
        node_with(&redis, settings).await,
    );
    let mut on_a = connect_as(&a, "ann").await;
    let mut on_b = connect_as(&b, "bea").await;
    subscribe_since(&mut on_a, "feed.both", None).await;
    subscribe_since(&mut on_b, "feed.both", None).await;
    let publishers: Vec<_> = [a.server().clone(), b.server().clone()]
        .into_iter()
        .map(|sockets| {
            std::thread::spawn(move || {
                for n in 0..300 {
                    sockets
                        .broadcast("feed.both", "message", &json!({ "n": n }))
                        .expect("broadcast");
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.join().expect("publisher");
    }
    let expected: Vec<u64> = (1..=600).collect();
    assert_eq!(offsets(&mut on_a, 600).await, expected);
    assert_eq!(offsets(&mut on_b, 600).await, expected);
}

#[actix_web::test]
async fn a_restarted_redis_starts_a_new_epoch_and_connected_subscribers_are_told_to_resync() {
    let mut redis = RedisServer::start();
    let a = node(&redis).await;
    let mut watcher = connect_as(&a, "wes").await;
    let joined = subscribe_since(&mut watcher, "feed.r", None).await;
    let epoch = joined["epoch"].as_str().expect("epoch").to_owned();
    publish(&a, "feed.r", 1);
    assert_eq!(offsets(&mut watcher, 1).await, [1]);
    redis.restart(); // no persistence: the history is gone
    let handle = a.server().clone();
    common::eventually("the node reconnects", || {
        handle.backplane_stats().connects >= 2 && handle.backplane_stats().connected
    })
    .await;
    let resync = watcher.recv_event("resync").await;
    assert_eq!(resync["channel"], "feed.r", "{resync}");
    assert_eq!(resync["data"]["reason"], "history_lost", "{resync}");
    assert_ne!(resync["data"]["epoch"], epoch.as_str(), "{resync}");
    let mut late = connect_as(&a, "lou").await;
    let answer = subscribe_since(&mut late, "feed.r", Some((1, &epoch))).await;
    assert_eq!(answer["recovered"], false, "{answer}");
    assert_ne!(answer["epoch"], epoch.as_str(), "{answer}");
}

/// Node A's pub/sub connection is cut while node B goes on publishing: A reconnects and
/// delivers what it missed from the history, in order, before anything newer, and
/// nobody is told to resync. The same for the user's stream, sent to alongside.
#[actix_web::test]
async fn publications_missed_while_a_node_was_cut_off_are_repaired_from_history() {
    let redis = RedisServer::start();
    // The subscriber reads only once the publisher has stopped.
    let mut settings = common::jwt_settings();
    settings.history.users.size = 1000;
    settings.limits.outbound_queue = 8192;
    settings.limits.outbound_queue_bytes = 16 << 20;
    let (a, b) = (
        node_with(&redis, settings.clone()).await,
        node_with(&redis, settings).await,
    );
    let mut on_a = connect_as(&a, "ann").await;
    subscribe_since(&mut on_a, "feed.gap", None).await;
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = std::thread::spawn({
        let (sockets, stop) = (b.server().clone(), stop.clone());
        move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                sockets
                    .broadcast("feed.gap", "message", &json!({ "n": n }))
                    .expect("broadcast");
                sockets
                    .send_to_user("ann", "notification", &json!({ "n": n }))
                    .expect("send to user");
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A's pub/sub connection is the one with the most subscriptions (it has a
    // subscriber on feed.gap and a user; B has neither).
    let Reply::Bulk(Some(clients)) = redis.query(&["CLIENT", "LIST", "TYPE", "pubsub"]) else {
        panic!("CLIENT LIST answers text");
    };
    let field = |line: &str, name: &str| {
        line.split(' ')
            .find_map(|kv| kv.strip_prefix(name))
            .map(str::to_owned)
    };
    let a_link = clients
        .lines()
        .max_by_key(|line| field(line, "sub=").and_then(|n| n.parse::<u32>().ok()))
        .and_then(|line| field(line, "id="))
        .expect("a pub/sub client");
    redis.query(&["CLIENT", "KILL", "ID", &a_link]);
    let handle = a.server().clone();
    common::eventually("node A reconnects", || {
        handle.backplane_stats().connects >= 2 && handle.backplane_stats().connected
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    publisher.join().expect("publisher");
    let last = |key: &str| -> u64 {
        let Reply::Bulk(Some(last)) = redis.query(&["HGET", key, "offset"]) else {
            panic!("the offset of {key}");
        };
        last.parse().expect("a number")
    };
    let (channel_last, user_last) = (
        last("switchboard:stream:feed.gap"),
        last("switchboard:stream:#user:ann"),
    );
    assert!(channel_last > 50, "{channel_last} publications");
    assert_eq!(user_last, channel_last, "as many sends to the user");
    let (mut channel, mut user) = (Vec::new(), Vec::new());
    while (channel.len() as u64) < channel_last || (user.len() as u64) < user_last {
        let packet = on_a.recv().await;
        assert_ne!(packet["event"], "resync", "{packet}");
        let offset = packet["offset"].as_u64();
        match packet["event"].as_str() {
            Some("message") => channel.push(offset.expect("an offset")),
            Some("notification") => user.push(offset.expect("an offset")),
            _ => {}
        }
    }
    assert_eq!(channel, (1..=channel_last).collect::<Vec<_>>());
    assert_eq!(
        user,
        (1..=user_last).collect::<Vec<_>>(),
        "the user's stream too"
    );
    on_a.assert_nothing_before(&b, "marker").await;
}

#[actix_web::test]
async fn a_user_offline_for_20_sends_catches_up_on_the_other_node() {
    let redis = RedisServer::start();
    let mut settings = common::jwt_settings();
    settings.history.users.size = 100;
    let (a, b) = (
        node_with(&redis, settings.clone()).await,
        node_with(&redis, settings).await,
    );
    let phone = connect_since(&a, "alice", None).await;
    let (offset, epoch) = ready_position(&phone);
    assert_eq!(offset, 0, "{}", phone.ready);
    drop(phone);
    for n in 1..=20 {
        notify(if n % 2 == 0 { &a } else { &b }, "alice", n);
    }
    redis.await_stream_offset("#user:alice", 20).await;
    let mut phone = connect_since(&b, "alice", Some((0, &epoch))).await;
    let ready = &phone.ready["data"];
    assert_eq!(ready["recovered"], true, "{ready}");
    assert_eq!(ready["missed"], 20, "{ready}");
    assert_eq!(ready["offset"], 20, "{ready}");
    // Two nodes sent at once: the broker's order is the offsets', each send once.
    let missed = notifications(&mut phone, 20).await;
    let offsets: Vec<u64> = missed.iter().map(|(_, offset)| *offset).collect();
    let mut sent: Vec<u64> = missed.iter().map(|(n, _)| *n).collect();
    sent.sort_unstable();
    assert_eq!(offsets, (1..=20).collect::<Vec<_>>());
    assert_eq!(sent, (1..=20).collect::<Vec<_>>());
    notify(&a, "alice", 21);
    assert_eq!(
        notifications(&mut phone, 1).await,
        [(21, 21)],
        "then live, from either node"
    );
    phone.assert_nothing_before(&b, "marker").await;
}

/// Sends from one node racing devices that connect to the other: each device gets every
/// send after its position once, in order, after `ready`.
#[actix_web::test]
async fn sends_from_another_node_racing_a_reconnect_are_neither_lost_nor_repeated() {
    let redis = RedisServer::start();
    let mut settings = common::jwt_settings();
    settings.history.users.size = 5000;
    settings.server.workers = 2;
    settings.limits.outbound_queue = 16_384;
    settings.limits.outbound_queue_bytes = 32 << 20;
    let (a, b) = (
        node_with(&redis, settings.clone()).await,
        node_with(&redis, settings).await,
    );
    reconnects_racing_sends(&b, &a, "bob").await;
}
