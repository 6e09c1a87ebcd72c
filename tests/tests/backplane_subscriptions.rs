//! A node's Redis subscriptions follow local interest: a topic is subscribed when the
//! first local session needs it and unsubscribed when the last one leaves. Checked
//! with Redis's own `PUBSUB CHANNELS`, not with the node's counters.

mod common;

use common::redis::{RedisServer, node};
use common::{connect_as, eventually};
use serde_json::json;

const ROOM: &str = "switchboard:ch:room.1";

fn subscribed(redis: &RedisServer, name: &str) -> bool {
    redis.channels(name).iter().any(|c| c == name)
}

#[actix_web::test]
async fn a_channel_is_subscribed_on_first_interest_and_unsubscribed_on_the_last() {
    let redis = RedisServer::start();
    let a = node(&redis).await;
    // A node always listens on its own topic and on the one for sends to everyone.
    let mut own = vec![
        "switchboard:all".to_owned(),
        format!("switchboard:node:{}", a.server().node_id()),
    ];
    own.sort();
    let listening = || {
        let mut channels = redis.channels("switchboard:*");
        channels.sort();
        channels
    };
    assert_eq!(listening(), own);

    let mut ann = connect_as(&a, "ann").await;
    // `ready` goes out once the user's topic is confirmed, so no waiting here.
    assert!(subscribed(&redis, "switchboard:user:ann"));
    assert!(!subscribed(&redis, ROOM));
    ann.join("room.1").await;
    // "subscribed" means "hears every node": Redis has it before the answer.
    assert!(subscribed(&redis, ROOM));

    let mut ben = connect_as(&a, "ben").await;
    ben.join("room.1").await;
    assert_eq!(redis.channels(ROOM), vec![ROOM.to_owned()], "once per node");

    ann.send(json!({"event": "unsubscribe-channel-request", "data": {"channel": "room.1"}}))
        .await;
    assert_eq!(
        ann.recv_event("unsubscribe-channel-response").await["data"]["successful"],
        true
    );
    // Ben still listens. The node handles subscription changes in order, so once a
    // later subscribe is confirmed, an unsubscribe of room.1 would have happened.
    ann.join("room.2").await;
    assert!(subscribed(&redis, ROOM), "unsubscribed while ben listens");

    // The last one leaves by disconnecting: the channel and ben's user topic go.
    drop(ben);
    eventually("room.1 is unsubscribed", || !subscribed(&redis, ROOM)).await;
    eventually("ben's user topic is unsubscribed", || {
        !subscribed(&redis, "switchboard:user:ben")
    })
    .await;
    ann.send(json!({"event": "unsubscribe-channel-request", "data": {"channel": "room.2"}}))
        .await;
    ann.recv_event("unsubscribe-channel-response").await;
    drop(ann);
    eventually("only the node's own topics are left", || listening() == own).await;
}

#[actix_web::test]
async fn a_subscribe_the_backplane_cannot_confirm_is_refused_not_reported_as_joined() {
    let mut redis = RedisServer::start();
    let a = node(&redis).await;
    let mut ann = connect_as(&a, "ann").await;
    redis.kill();
    eventually("the node sees Redis gone", || {
        !a.server().backplane_stats().connected
    })
    .await;
    ann.send(json!({"event": "subscribe-channel-request", "data": {"channel": "room.9"}}))
        .await;
    let response = ann.recv_event("subscribe-channel-response").await;
    assert_eq!(response["data"]["successful"], false, "{response}");
    assert_eq!(response["data"]["reason"], "backplane_unavailable");
    assert_eq!(
        a.server().stats().subscriptions,
        0,
        "undone, not half-joined"
    );
    // Once Redis is back, the same subscribe is confirmed.
    redis.restart();
    eventually("the node reconnects", || {
        a.server().backplane_stats().connected
    })
    .await;
    ann.join("room.9").await;
    assert!(subscribed(&redis, "switchboard:ch:room.9"));
}

#[actix_web::test]
async fn the_publish_queue_is_bounded_in_bytes_while_redis_does_not_answer() {
    let redis = RedisServer::start();
    let mut s = common::jwt_settings();
    s.backplane.publish_queue_bytes = 64 * 1024;
    let a = common::redis::node_with(&redis, s).await;
    redis.freeze();
    let blob = "x".repeat(1024);
    // Each packet is about 1,080 bytes of JSON: 60 fit in 64 KiB, counting the batch
    // in flight to the frozen Redis; the other 140 are refused at once.
    for n in 0..200 {
        a.server()
            .broadcast("room.1", "m", &json!({"n": n, "blob": blob}))
            .expect("sent");
    }
    let failed = a.server().backplane_stats().publish_failed;
    redis.thaw();
    assert!(
        (139..=141).contains(&failed),
        "{failed} of 200 refused with a 64 KiB queue"
    );
}
