//! When Redis goes away: local delivery goes on, what is published meanwhile is lost
//! (never replayed), and cross-node delivery resumes by itself.

mod common;

use std::time::Duration;

use common::redis::{RedisServer, node};
use common::{Client, connect_as, eventually};
use serde_json::{Value, json};

/// Sends `again-N` from `from` until `to` hears one, allowing each attempt
/// `per_attempt`. Anything else `to` receives fails the test at once: in particular
/// the message published during the outage, which must be lost, not replayed.
async fn until_heard(from: &mut Client, to: &mut Client, attempts: u32) -> u32 {
    for attempt in 1..=attempts {
        let text = format!("again-{attempt}");
        from.send(json!({"event": "message", "channel": "global-chat", "data": {"message": text}}))
            .await;
        // `recv` has its own longer patience; cutting it short here is what lets
        // this loop try again (the stream keeps any half-read frame).
        match tokio::time::timeout(Duration::from_millis(500), to.recv()).await {
            Ok(packet) => {
                assert_resent(&packet, attempt);
                return attempt;
            }
            Err(_) => continue,
        }
    }
    panic!("cross-node delivery did not resume after {attempts} attempts");
}

/// A copy of an earlier `again-K` (K <= `up_to`) may still arrive late; nothing else may.
fn assert_resent(packet: &Value, up_to: u32) {
    let text = packet["data"]["message"].as_str().unwrap_or_default();
    let k: Option<u32> = text.strip_prefix("again-").and_then(|k| k.parse().ok());
    assert!(
        packet["event"] == "message"
            && packet["channel"] == "global-chat"
            && k.is_some_and(|k| (1..=up_to).contains(&k)),
        "unexpected packet (a replay of the outage message?): {packet}"
    );
}

/// Reads until `marker` and checks everything before it with [`assert_resent`].
async fn only_resent_before(client: &mut Client, marker: &str, up_to: u32) {
    loop {
        let packet = client.recv().await;
        if packet["event"] == marker {
            return;
        }
        assert_resent(&packet, up_to);
    }
}

#[actix_web::test]
async fn when_redis_dies_local_delivery_goes_on_and_cross_node_delivery_resumes_after() {
    let mut redis = RedisServer::start();
    let (a, b) = (node(&redis).await, node(&redis).await);
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
    // Nodes keep serving: a new connection works while Redis is down, but a subscribe
    // that cannot hear the other nodes is refused, not reported as joined.
    let mut late = connect_as(&b, "late").await;
    late.send(json!({"event": "subscribe-channel-request", "data": {"channel": "global-chat"}}))
        .await;
    let refused = late.recv_event("subscribe-channel-response").await;
    assert_eq!(refused["data"]["successful"], false, "{refused}");
    assert_eq!(refused["data"]["reason"], "backplane_unavailable");

    redis.restart();
    eventually("both nodes reconnect by themselves", || {
        ha.backplane_stats().connected && hb.backplane_stats().connected
    })
    .await;
    late.join("global-chat").await; // confirmed now
    // Subscriptions were restored from the index: B hears A again, for old and new
    // sessions. The first attempts may be published before B has re-subscribed.
    let heard = until_heard(&mut a1, &mut b1, 20).await;
    // What B delivered before the marker (sent by A through Redis after every
    // attempt) is all that will ever come: "local" was never replayed.
    let marker = "marker";
    for client in [&mut b1, &mut late] {
        a.server()
            .send_to_connection(&client.connection_id, marker, &json!({}))
            .expect("handed to the backplane");
    }
    only_resent_before(&mut b1, marker, heard).await;
    let first_late = late.recv().await;
    assert_resent(&first_late, heard);
    only_resent_before(&mut late, marker, heard).await;
    assert!(hb.backplane_stats().connects >= 2);
}
