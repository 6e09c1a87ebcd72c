//! Two nodes sharing a Redis backplane act as one server.

mod common;

use std::time::Duration;

use common::redis::RedisServer;
use common::{connect_as, eventually, jwt_settings, start};
use serde_json::json;
use switchboard::Running;
use switchboard::config::{BackplaneKind, Secret};

async fn node(redis: &RedisServer) -> Running {
    let mut s = jwt_settings();
    s.backplane.kind = BackplaneKind::Redis;
    s.backplane.url = Secret::new(redis.url());
    let node = start(s).await;
    let handle = node.server().clone();
    eventually("the node reaches redis", || {
        handle.backplane_stats().connected
    })
    .await;
    node
}

async fn two_nodes(redis: &RedisServer) -> (Running, Running) {
    (node(redis).await, node(redis).await)
}

#[actix_web::test]
async fn a_broadcast_reaches_subscribers_on_every_node_exactly_once() {
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis).await;
    let mut a1 = connect_as(&a, "ann").await;
    let mut b1 = connect_as(&b, "bea").await;
    let mut b2 = connect_as(&b, "bo").await;
    for c in [&mut a1, &mut b1, &mut b2] {
        c.join("global-chat").await;
    }
    a1.send(json!({"event": "message", "channel": "global-chat", "data": {"message": "from a"}}))
        .await;
    let expected = json!({"event": "message", "channel": "global-chat", "data": {"message": "from a", "from": "ann"}});
    for c in [&mut a1, &mut b1, &mut b2] {
        assert_eq!(c.recv().await, expected);
    }
    // And back from B to A.
    b1.send(json!({"event": "message", "channel": "global-chat", "data": {"message": "from b"}}))
        .await;
    for c in [&mut a1, &mut b1, &mut b2] {
        assert_eq!(c.recv().await["data"]["message"], "from b");
    }
    // Exactly once: nothing else is queued for anyone.
    a1.assert_nothing_before(&a, "marker").await;
    b1.assert_nothing_before(&b, "marker").await;
    b2.assert_nothing_before(&b, "marker").await;
    assert!(a.server().backplane_stats().published >= 1);
    assert!(b.server().backplane_stats().received >= 1);
}

#[actix_web::test]
async fn a_user_is_reached_on_every_node_and_only_that_user() {
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis).await;
    let mut alice_a = connect_as(&a, "alice").await;
    let mut alice_b = connect_as(&b, "alice").await;
    let mut bob_b = connect_as(&b, "bob").await;

    let local = a
        .server()
        .send_to_user("alice", "notification", &json!({"n": 1}))
        .expect("sent");
    assert_eq!(local, 1, "one of alice's connections is on node A");
    for c in [&mut alice_a, &mut alice_b] {
        assert_eq!(
            c.recv().await,
            json!({"event": "notification", "data": {"n": 1}})
        );
    }
    bob_b.assert_nothing_before(&b, "marker").await;
    alice_a.assert_nothing_before(&a, "marker").await;

    // One connection, addressed from the other node.
    a.server()
        .send_to_connection(&bob_b.connection_id, "direct", &json!({}))
        .expect("handed to the backplane");
    assert_eq!(bob_b.recv().await["event"], "direct");

    // Through the user's channel: only their connections subscribed to it, on any node.
    alice_b.join("user:chat.alice").await;
    let sent = a
        .server()
        .send_to_user_via_channel::<switchboard_app::listeners::UserChat, _>(
            "alice",
            "user:chat.alice",
            "message",
            &json!({"message": "psst"}),
        );
    assert_eq!(sent.expect("sent"), 0, "nobody on node A has joined it");
    assert_eq!(alice_b.recv().await["channel"], "user:chat.alice");
    alice_a.assert_nothing_before(&a, "marker").await;
}

#[actix_web::test]
async fn broadcast_except_skips_the_sender_on_its_node_and_channels_stay_isolated() {
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis).await;
    let mut a1 = connect_as(&a, "a1").await;
    let mut a2 = connect_as(&a, "a2").await;
    let mut b1 = connect_as(&b, "b1").await;
    let mut other_room = connect_as(&b, "b2").await;
    for c in [&mut a1, &mut a2, &mut b1] {
        c.join("room.1").await;
    }
    other_room.join("room.2").await;

    // room.* broadcasts to everyone but the sender.
    a1.send(json!({"event": "message", "channel": "room.1", "data": {"message": "hi"}}))
        .await;
    assert_eq!(a2.recv().await["data"]["message"], "hi");
    assert_eq!(b1.recv().await["data"]["message"], "hi");
    a1.assert_nothing_before(&a, "marker").await;

    // From node B, excluding a connection that lives on node A.
    b.server()
        .broadcast_except("room.1", &a2.connection_id, "notice", &json!({}))
        .expect("sent");
    assert_eq!(a1.recv().await["event"], "notice");
    assert_eq!(b1.recv().await["event"], "notice");
    a2.assert_nothing_before(&a, "marker").await;
    other_room.assert_nothing_before(&b, "marker").await;
}

#[actix_web::test]
async fn when_redis_dies_local_delivery_goes_on_and_cross_node_delivery_resumes_after() {
    let mut redis = RedisServer::start();
    let (a, b) = two_nodes(&redis).await;
    let mut a1 = connect_as(&a, "a1").await;
    let mut a2 = connect_as(&a, "a2").await;
    let mut b1 = connect_as(&b, "b1").await;
    for c in [&mut a1, &mut a2, &mut b1] {
        c.join("global-chat").await;
    }

    redis.kill();
    let (ha, hb) = (a.server().clone(), b.server().clone());
    eventually("both nodes notice", || {
        !ha.backplane_stats().connected && !hb.backplane_stats().connected
    })
    .await;
    a1.send(json!({"event": "message", "channel": "global-chat", "data": {"message": "local"}}))
        .await;
    assert_eq!(a1.recv().await["data"]["message"], "local");
    assert_eq!(a2.recv().await["data"]["message"], "local");
    eventually("the lost publish is counted", || {
        ha.backplane_stats().publish_failed >= 1
    })
    .await;
    // Nodes keep serving: a new connection and subscription work while Redis is down.
    let mut late = connect_as(&b, "late").await;
    late.join("global-chat").await;

    redis.restart();
    eventually("both nodes reconnect by themselves", || {
        ha.backplane_stats().connected && hb.backplane_stats().connected
    })
    .await;
    // Subscriptions were restored from the index: B hears A again, for old and new sessions.
    let resumed = async {
        loop {
            a1.send(
                json!({"event": "message", "channel": "global-chat", "data": {"message": "again"}}),
            )
            .await;
            let packet = b1.recv().await;
            if packet["data"]["message"] == "again" {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), resumed)
        .await
        .expect("cross-node delivery resumes within seconds");
    assert_eq!(late.recv_event("message").await["data"]["message"], "again");
    assert!(hb.backplane_stats().connects >= 2);
}
