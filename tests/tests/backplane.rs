//! Two nodes sharing a Redis backplane act as one server.

mod common;

use common::connect_as;
use common::redis::{RedisServer, node};
use serde_json::json;
use switchboard::Running;

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
    // Exactly once: nothing else is queued for anyone. A duplicate would come back
    // through Redis, so each marker comes from the other node through Redis too, sent
    // after its node saw both messages: Redis hands a subscriber its messages in the
    // order it received them, so a duplicate cannot arrive after the marker. (A marker
    // from the client's own node is delivered at once and could overtake it.)
    a1.assert_nothing_before(&b, "marker").await;
    b1.assert_nothing_before(&a, "marker").await;
    b2.assert_nothing_before(&a, "marker").await;
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
    // Markers travel the path a stray copy would take (see the first test).
    bob_b.assert_nothing_before(&a, "marker").await;
    alice_a.assert_nothing_before(&b, "marker").await;

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
    alice_a.assert_nothing_before(&b, "marker").await;
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
    a1.assert_nothing_before(&b, "marker").await;

    // From node B, excluding a connection that lives on node A.
    b.server()
        .broadcast_except("room.1", &a2.connection_id, "notice", &json!({}))
        .expect("sent");
    assert_eq!(a1.recv().await["event"], "notice");
    assert_eq!(b1.recv().await["event"], "notice");
    a2.assert_nothing_before(&b, "marker").await;
    other_room.assert_nothing_before(&a, "marker").await;
}

const API_KEY: &str = "an-api-key-that-is-at-least-32-bytes-long";

/// Node A with the HTTP API on (key [`API_KEY`]), node B without.
async fn api_and_plain_nodes(redis: &RedisServer) -> (Running, Running) {
    let mut s = common::jwt_settings();
    s.http_api.enabled = true;
    s.http_api.key = switchboard::config::Secret::new(API_KEY);
    (common::redis::node_with(redis, s).await, node(redis).await)
}

#[actix_web::test]
async fn the_http_api_of_one_node_reaches_every_node() {
    let redis = RedisServer::start();
    let (a, b) = api_and_plain_nodes(&redis).await;
    let mut ann_a = connect_as(&a, "ann").await;
    let mut ben_b = connect_as(&b, "ben").await;
    let mut ann_b = connect_as(&b, "ann").await;
    ann_a.join("room.7").await;
    ben_b.join("room.7").await;
    let api = |path: &str, body: serde_json::Value| {
        let (addr, path) = (a.addr(), path.to_owned());
        async move { common::http(addr, "POST", &path, Some(&body), &[("X-Api-Key", API_KEY)]).await }
    };

    // The answer counts this node's deliveries only; the other node's come through Redis.
    let (status, body) = api(
        "/switchboard/api/broadcast",
        json!({"channel": "room.7", "event": "news", "data": {"n": 1}, "except": ann_a.connection_id}),
    )
    .await;
    assert_eq!((status, body), (202, json!({"delivered_here": 0})));
    assert_eq!(
        ben_b.recv().await,
        json!({"event": "news", "channel": "room.7", "data": {"n": 1}})
    );

    let (status, _) = api(
        "/switchboard/api/users/ann/events",
        json!({"event": "hello"}),
    )
    .await;
    assert_eq!(status, 202);
    for c in [&mut ann_a, &mut ann_b] {
        assert_eq!(c.recv().await, json!({"event": "hello", "data": {}}));
    }

    let path = format!(
        "/switchboard/api/connections/{}/events",
        ben_b.connection_id
    );
    let (status, body) = api(&path, json!({"event": "direct", "data": [1]})).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(ben_b.recv().await, json!({"event": "direct", "data": [1]}));

    // Nothing more for anyone: markers come from node A through Redis, like the sends.
    ann_a.assert_nothing_before(&b, "marker").await;
    ann_b.assert_nothing_before(&a, "marker").await;
    ben_b.assert_nothing_before(&a, "marker").await;
}

#[actix_web::test]
async fn a_send_to_a_connection_no_node_has_is_answered_404_not_202() {
    let redis = RedisServer::start();
    let (a, b) = api_and_plain_nodes(&redis).await;
    let mut ben_b = connect_as(&b, "ben").await;
    let to = |id: &str| {
        let (addr, path) = (
            a.addr(),
            format!("/switchboard/api/connections/{id}/events"),
        );
        async move {
            let body = json!({"event": "direct"});
            common::http(addr, "POST", &path, Some(&body), &[("X-Api-Key", API_KEY)]).await
        }
    };

    // On node B, which answers for its own connections.
    let (status, body) = to(&ben_b.connection_id).await;
    assert_eq!((status, body), (202, json!({"sent": true})));
    assert_eq!(ben_b.recv().await, json!({"event": "direct", "data": {}}));
    let b_node = b.server().node_id().as_str().to_owned();
    let (status, body) = to(&format!("{b_node}-999999")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("unknown_connection")),
        "{body}"
    );
    // The same answer from code, through the SocketServer.
    let unknown = a
        .server()
        .confirm_send_to_connection(&format!("{b_node}-999999"), "direct", &())
        .await;
    assert!(
        matches!(unknown, Err(switchboard::SendError::UnknownConnection(_))),
        "{unknown:?}"
    );

    // A closed connection, and a node nobody runs: no node has them.
    let gone = ben_b.connection_id.clone();
    drop(ben_b);
    let mut status = 0;
    for _ in 0..50 {
        status = to(&gone).await.0;
        if status == 404 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status, 404, "a closed connection");
    assert_eq!(to("no-such-node-1").await.0, 404, "a node nobody runs");

    // A node that hears but never answers: 504 after the ask's timeout (2 s).
    let _stuck = redis.silent_subscriber("switchboard:node:stuck");
    let asked = std::time::Instant::now();
    let (status, body) = to("stuck-1").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (504, Some("no_answer")),
        "{body}"
    );
    assert!(asked.elapsed() >= std::time::Duration::from_millis(1900));

    // Redis away: nobody can answer, and the caller is told so rather than 202.
    redis.freeze();
    let (status, body) = to(&format!("{b_node}-1")).await;
    redis.thaw();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (504, Some("no_answer")),
        "{body}"
    );
    b.stop().await;
}

#[actix_web::test]
async fn send_to_everyone_reaches_every_connection_of_every_node_once() {
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis).await;
    let mut clients = vec![
        connect_as(&a, "ann").await,
        connect_as(&a, "al").await,
        connect_as(&b, "bea").await,
    ];
    let here = a
        .server()
        .send_to_everyone("announcement", &json!({"text": "maintenance at noon"}))
        .expect("sent");
    assert_eq!(here, 2, "the answer counts this node's connections");
    for c in &mut clients {
        assert_eq!(
            c.recv().await,
            json!({"event": "announcement", "data": {"text": "maintenance at noon"}})
        );
    }
    // Once each: the markers come from the other node through Redis, as a duplicate would.
    let [ann, al, bea] = &mut clients[..] else {
        unreachable!()
    };
    ann.assert_nothing_before(&b, "marker").await;
    al.assert_nothing_before(&b, "marker").await;
    bea.assert_nothing_before(&a, "marker").await;
}
