//! Presence without Redis: on one node (the in-memory default) and on nodes sharing the
//! in-process `testing::Broker`, which stands in for Redis (the same decisions, the
//! same leases), including a node cut off from it.

mod common;

use std::time::{Duration, Instant};

use common::{Client, connect_as};
use serde_json::{Value, json};
use switchboard::prelude::*;
use switchboard::testing::Broker;
use switchboard::{Running, Switchboard};
use switchboard_app::user::{User, Users};

#[derive(ChannelListener, Default)]
#[channel("room.p{id}", presence)]
struct PresenceRoom;

#[channel_events]
impl PresenceRoom {}

#[derive(ChannelListener, Default)]
#[channel("arena.{id}", presence(counts))]
struct Arena;

#[channel_events]
impl Arena {}

fn builder(broker: Option<&Broker>) -> switchboard::SwitchboardBuilder {
    let mut settings = common::jwt_settings();
    settings.presence.lease_secs = 1;
    let builder = Switchboard::builder(settings)
        .resolve_users(Users)
        .presence_info(|user: &User| Some(json!({ "name": user.name })));
    match broker {
        Some(broker) => builder.backplane(broker.clone()),
        None => builder,
    }
}

fn start(broker: Option<&Broker>) -> Running {
    builder(broker)
        .build()
        .expect("valid settings")
        .start("127.0.0.1:0")
        .expect("binds")
}

async fn presence(client: &mut Client, channel: &str) -> Value {
    client
        .send(json!({"event": "presence-request", "channel": channel, "data": {}}))
        .await;
    client.recv_event("presence-response").await["data"].clone()
}

fn join_of(user: &str) -> Value {
    json!({"event": "presence-join", "channel": "room.p1", "data": {"user_id": user, "info": {"name": user}}})
}

fn leave_of(user: &str) -> Value {
    json!({"event": "presence-leave", "channel": "room.p1", "data": {"user_id": user}})
}

#[actix_web::test]
async fn on_one_node_a_user_joins_with_the_first_tab_and_leaves_with_the_last() {
    let node = start(None);
    let mut carol = connect_as(&node, "carol").await;
    carol.join("room.p1").await;
    assert_eq!(carol.recv().await, join_of("carol"));

    let mut tab1 = connect_as(&node, "alice").await;
    let mut tab2 = connect_as(&node, "alice").await;
    tab1.join("room.p1").await;
    assert_eq!(carol.recv().await, join_of("alice"));
    tab2.join("room.p1").await;
    assert_eq!(
        presence(&mut carol, "room.p1").await,
        json!({"count": 2, "connections": 3, "members": [
            {"user_id": "alice", "info": {"name": "alice"}},
            {"user_id": "carol", "info": {"name": "carol"}},
        ]})
    );

    tab1.ws.close(None).await.expect("closes");
    let _ = tab1.closed_with().await;
    tab2.send(json!({"event": "unsubscribe-channel-request", "data": {"channel": "room.p1"}}))
        .await;
    assert_eq!(
        carol.recv().await,
        leave_of("alice"),
        "one leave, after the last tab"
    );
    carol.assert_nothing_before(&node, "marker").await;
    assert_eq!(presence(&mut carol, "room.p1").await["count"], 1);
}

#[actix_web::test]
async fn counts_only_sends_no_member_packets_on_one_node() {
    let node = start(None);
    let mut carol = connect_as(&node, "carol").await;
    carol.join("arena.1").await;
    let mut fans = Vec::new();
    for i in 0..20 {
        let mut fan = connect_as(&node, &format!("fan-{}", i % 5)).await;
        fan.join("arena.1").await;
        fans.push(fan);
    }
    assert_eq!(
        presence(&mut carol, "arena.1").await,
        json!({"count": 6, "connections": 21})
    );
    drop(fans);
    let deadline = Instant::now() + common::PATIENCE;
    while presence(&mut carol, "arena.1").await != json!({"count": 1, "connections": 1}) {
        assert!(Instant::now() < deadline, "the fans were never counted out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    carol.assert_nothing_before(&node, "marker").await;
}

#[actix_web::test]
async fn on_the_in_process_broker_a_partitioned_node_loses_its_members_within_the_lease() {
    let broker = Broker::new();
    let (a, b) = (start(Some(&broker)), start(Some(&broker)));
    common::eventually("both nodes reach the broker", || {
        broker.is_connected(&a) && broker.is_connected(&b)
    })
    .await;
    let mut carol = connect_as(&a, "carol").await;
    carol.join("room.p1").await;
    assert_eq!(carol.recv().await, join_of("carol"));
    let mut bob = connect_as(&b, "bob").await;
    bob.join("room.p1").await;
    assert_eq!(carol.recv().await, join_of("bob"));
    assert_eq!(bob.recv().await, join_of("bob"));

    broker.partition(&b);
    let cut_at = Instant::now();
    assert_eq!(carol.recv().await, leave_of("bob"));
    assert!(
        cut_at.elapsed() < Duration::from_secs(3),
        "{:?}",
        cut_at.elapsed()
    );
    assert_eq!(presence(&mut carol, "room.p1").await["count"], 1);

    // Back on the broker, node B finds its lease gone and hands Bob over again.
    broker.heal(&b);
    assert_eq!(carol.recv().await, join_of("bob"));
    assert_eq!(presence(&mut carol, "room.p1").await["count"], 2);
}
