//! Presence across two nodes on one Redis: a user is a member once however many tabs
//! and nodes they are on, joins and leaves are announced once to every subscriber, and
//! a node cut off from Redis loses its members when its lease runs out.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::redis::RedisServer;
use common::{Client, connect_as};
use serde_json::{Value, json};
use switchboard::prelude::*;
use switchboard::{Running, Switchboard};
use switchboard_app::user::{User, Users};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// A room whose members are listed (`room.p1`: its literal prefix outranks the demo's
/// `room.{id}`).
#[derive(ChannelListener, Default)]
#[channel("room.p{id}", presence)]
struct PresenceRoom;

#[channel_events]
impl PresenceRoom {}

/// The lease the tests run with: a dead node's members go within it.
const LEASE_SECS: u64 = 2;

/// A node on `redis_url` with a short lease and members' display names as `info`.
async fn node(redis_url: &str) -> Running {
    let mut settings = common::jwt_settings();
    settings.backplane.kind = switchboard::config::BackplaneKind::Redis;
    settings.backplane.url = switchboard::config::Secret::new(redis_url);
    settings.presence.lease_secs = LEASE_SECS;
    let node = Switchboard::builder(settings)
        .resolve_users(Users)
        .presence_info(|user: &User| Some(json!({ "name": user.name })))
        .build()
        .expect("valid settings")
        .start("127.0.0.1:0")
        .expect("server binds");
    let handle = node.server().clone();
    common::eventually("the node reaches redis", || {
        handle.backplane_stats().connected
    })
    .await;
    node
}

/// `presence-request` on `channel`: the response's data (asserting the ack says the same).
async fn presence(client: &mut Client, channel: &str) -> Value {
    client
        .send(json!({"event": "presence-request", "channel": channel, "data": {}, "id": 9}))
        .await;
    let response = client.recv_event("presence-response").await;
    assert_eq!(response["channel"], channel);
    let ack = client.recv_event("ack").await;
    assert_eq!(
        ack["data"]["data"], response["data"],
        "the ack carries the answer"
    );
    response["data"].clone()
}

/// The next presence packet, skipping nothing else: a message in between fails.
async fn next_presence(client: &mut Client) -> Value {
    let packet = client.recv().await;
    assert!(
        packet["event"]
            .as_str()
            .is_some_and(|e| e.starts_with("presence-")),
        "expected a presence packet, got {packet}"
    );
    packet
}

fn join_of(user: &str) -> Value {
    json!({"event": "presence-join", "channel": "room.p1", "data": {"user_id": user, "info": {"name": user}}})
}

fn leave_of(user: &str) -> Value {
    json!({"event": "presence-leave", "channel": "room.p1", "data": {"user_id": user}})
}

fn user_ids(presence: &Value) -> Vec<&str> {
    presence["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["user_id"].as_str())
        .collect()
}

#[actix_web::test]
async fn a_user_on_two_nodes_joins_once_and_leaves_once_everywhere() {
    let redis = RedisServer::start();
    let (a, b) = (node(&redis.url()).await, node(&redis.url()).await);
    let mut carol = connect_as(&a, "carol").await;
    let mut dave = connect_as(&b, "dave").await;
    carol.join("room.p1").await;
    assert_eq!(next_presence(&mut carol).await, join_of("carol"));
    dave.join("room.p1").await;
    for watcher in [&mut carol, &mut dave] {
        assert_eq!(next_presence(watcher).await, join_of("dave"));
    }

    // Alice's first tab, on node A: one join, to everyone (her tab included).
    let mut alice_a = connect_as(&a, "alice").await;
    alice_a.join("room.p1").await;
    for watcher in [&mut carol, &mut dave, &mut alice_a] {
        assert_eq!(next_presence(watcher).await, join_of("alice"));
    }

    // Her second tab, on node B: no join. The request hands B's counts to Redis before
    // reading, so the markers below travel after anything it could have published.
    let mut alice_b = connect_as(&b, "alice").await;
    alice_b.join("room.p1").await;
    let seen = presence(&mut alice_b, "room.p1").await;
    assert_eq!(
        (seen["count"].clone(), seen["connections"].clone()),
        (json!(3), json!(4))
    );
    assert_eq!(user_ids(&seen), ["alice", "carol", "dave"]);
    assert_eq!(seen["members"][0]["info"], json!({"name": "alice"}));
    carol.assert_nothing_before(&b, "marker").await;
    dave.assert_nothing_before(&a, "marker").await;
    alice_a.assert_nothing_before(&b, "marker").await;

    // One tab closes: Alice is still here.
    alice_a.ws.close(None).await.expect("closes");
    let deadline = Instant::now() + common::PATIENCE;
    while presence(&mut carol, "room.p1").await["connections"] != 3 {
        assert!(
            Instant::now() < deadline,
            "node A never counted the tab out"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    carol.assert_nothing_before(&b, "marker").await;
    dave.assert_nothing_before(&a, "marker").await;

    // The other one closes: exactly one leave, everywhere.
    alice_b.ws.close(None).await.expect("closes");
    for watcher in [&mut carol, &mut dave] {
        assert_eq!(next_presence(watcher).await, leave_of("alice"));
    }
    let seen = presence(&mut dave, "room.p1").await;
    assert_eq!(user_ids(&seen), ["carol", "dave"]);
    assert_eq!(seen["connections"], 2);
    carol.assert_nothing_before(&b, "marker").await;
    dave.assert_nothing_before(&a, "marker").await;
}

/// A TCP hop between a node and Redis that the test can cut, as a network partition
/// would: open connections are dropped and new ones refused.
struct Cable {
    addr: SocketAddr,
    /// The acceptor and every pipe it spawned.
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Cable {
    async fn to(redis: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("an address");
        let tasks = Arc::new(Mutex::new(Vec::new()));
        let pipes = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let pipe = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(redis).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                pipes
                    .lock()
                    .expect("not poisoned")
                    .push(pipe.abort_handle());
            }
        });
        tasks
            .lock()
            .expect("not poisoned")
            .push(accept.abort_handle());
        Self { addr, tasks }
    }

    fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Aborting the acceptor drops the listener; aborting the pipes drops their sockets.
    fn cut(&mut self) {
        for task in self.tasks.lock().expect("not poisoned").drain(..) {
            task.abort();
        }
    }
}

#[actix_web::test]
async fn a_node_cut_off_loses_its_members_when_its_lease_runs_out() {
    let redis = RedisServer::start();
    let redis_addr: SocketAddr = redis
        .url()
        .trim_start_matches("redis://")
        .parse()
        .expect("an address");
    let mut cable = Cable::to(redis_addr).await;
    let a = node(&redis.url()).await;
    let b = node(&cable.url()).await;
    let mut carol = connect_as(&a, "carol").await;
    carol.join("room.p1").await;
    assert_eq!(next_presence(&mut carol).await, join_of("carol"));
    let mut bob = connect_as(&b, "bob").await;
    bob.join("room.p1").await;
    assert_eq!(next_presence(&mut carol).await, join_of("bob"));
    assert_eq!(
        user_ids(&presence(&mut carol, "room.p1").await),
        ["bob", "carol"]
    );

    // Node B vanishes from Redis's view without leaving: no clean-up runs.
    cable.cut();
    let cut_at = Instant::now();
    assert_eq!(next_presence(&mut carol).await, leave_of("bob"));
    let took = cut_at.elapsed();
    // The lease, plus one renewal period of the survivor's sweeper, plus slack.
    let bound = Duration::from_secs(LEASE_SECS) + Duration::from_secs(LEASE_SECS) / 3;
    assert!(
        took <= bound + Duration::from_millis(1500),
        "the leave took {took:?}"
    );
    let seen = presence(&mut carol, "room.p1").await;
    assert_eq!(user_ids(&seen), ["carol"]);
    assert_eq!(
        (seen["count"].clone(), seen["connections"].clone()),
        (json!(1), json!(1))
    );
    carol.assert_nothing_before(&a, "marker").await;
    drop(bob);
}

#[actix_web::test]
async fn presence_requests_on_channels_not_joined_or_without_presence_are_refused() {
    let redis = RedisServer::start();
    let a = node(&redis.url()).await;
    let mut carol = connect_as(&a, "carol").await;
    carol
        .send(json!({"event": "presence-request", "channel": "room.p1", "data": {}, "id": 1}))
        .await;
    let error = carol.recv_event("error").await;
    assert_eq!(error["data"]["code"], "not_subscribed", "{error}");
    assert_eq!(carol.recv_event("ack").await["data"]["ok"], false);

    carol.join("global-chat").await;
    carol
        .send(json!({"event": "presence-request", "channel": "global-chat", "data": {}}))
        .await;
    let error = carol.recv_event("error").await;
    assert_eq!(error["data"]["code"], "unknown_event", "{error}");
    assert_eq!(error["data"]["channel"], "global-chat");

    // A client may not send what only the server sends.
    carol.join("room.p1").await;
    carol
        .send(
            json!({"event": "presence-join", "channel": "room.p1", "data": {"user_id": "mallory"}}),
        )
        .await;
    let error = carol.recv_event("error").await;
    assert_eq!(error["data"]["code"], "bad_packet", "{error}");
}
