//! Counts-only presence (`presence(counts)`) with 10,000 subscribers on two nodes over
//! one Redis: both nodes count the same users and connections, and no per-user packet
//! is sent to anyone, neither as they join nor as they leave.
//!
//! The 10,000 client connections are held by a child process (this test binary run
//! again, see `hold_connections_for_the_parent`), so this process holds only the
//! servers' ends and stays under the file-descriptor limit.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::redis::{RedisServer, node_with};
use common::{Client, connect_as};
use futures_util::StreamExt;
use serde_json::{Value, json};
use switchboard::prelude::*;
use tokio_tungstenite::tungstenite::Message;

/// A channel too big for a member list.
#[derive(ChannelListener, Default)]
#[channel("stadium.{id}", presence(counts))]
struct Stadium;

#[channel_events]
impl Stadium {}

const SUBSCRIBERS: usize = 10_000;
/// 100 users with 100 connections each, half on each node.
const USERS: usize = 100;
/// Set in the child: the two nodes' endpoints, comma-separated.
const HOLD_ENV: &str = "SWITCHBOARD_TEST_HOLD_ENDPOINTS";

async fn presence(client: &mut Client) -> Value {
    client
        .send(json!({"event": "presence-request", "channel": "stadium.1", "data": {}}))
        .await;
    client.recv_event("presence-response").await["data"].clone()
}

/// Asks both observers until both see `count` users and `connections` connections.
async fn until_counted(observers: &mut [&mut Client; 2], count: usize, connections: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    for observer in observers.iter_mut() {
        loop {
            let seen = presence(observer).await;
            assert_eq!(seen.get("members"), None, "counts only: {seen}");
            if seen == json!({"count": count, "connections": connections}) {
                break;
            }
            assert!(Instant::now() < deadline, "still {seen}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[actix_web::test]
async fn counts_only_presence_of_ten_thousand_subscribers_is_right_on_both_nodes() {
    let redis = RedisServer::start();
    let mut settings = common::jwt_settings();
    settings.limits.max_connections_per_user = SUBSCRIBERS;
    let a = node_with(&redis, settings.clone()).await;
    let b = node_with(&redis, settings).await;
    let mut watcher_a = connect_as(&a, "watcher-a").await;
    let mut watcher_b = connect_as(&b, "watcher-b").await;
    watcher_a.join("stadium.1").await;
    watcher_b.join("stadium.1").await;

    let endpoints = format!("{},{}", a.ws_url(), b.ws_url());
    let exe = std::env::current_exe().expect("the test binary");
    let started = Instant::now();
    let mut crowd = Command::new(exe)
        .args(["hold_connections_for_the_parent", "--exact", "--nocapture"])
        .env(HOLD_ENV, endpoints)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the child starts");
    let stdout = crowd.stdout.take().expect("piped");
    let holding = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.starts_with("HOLDING"))
    });
    assert!(
        holding.await.expect("reads"),
        "the child did not connect everyone"
    );
    let joined = started.elapsed();

    until_counted(
        &mut [&mut watcher_a, &mut watcher_b],
        USERS + 2,
        SUBSCRIBERS + 2,
    )
    .await;
    eprintln!(
        "{SUBSCRIBERS} subscribers connected, joined and counted on both nodes in {joined:?}"
    );

    // Everyone goes at once, as when a process dies: no leave either.
    crowd.kill().expect("killed");
    let _ = crowd.wait();
    until_counted(&mut [&mut watcher_a, &mut watcher_b], 2, 2).await;

    // Nothing but the answers to the requests above reached the watchers.
    for (watcher, other) in [(&mut watcher_a, &b), (&mut watcher_b, &a)] {
        other
            .server()
            .send_to_connection(&watcher.connection_id, "marker", &json!({}))
            .expect("sent");
        loop {
            let packet = watcher.recv().await;
            match packet["event"].as_str() {
                Some("marker") => break,
                Some("presence-response" | "ack") => {}
                _ => panic!("a per-user packet in counts-only mode: {packet}"),
            }
        }
    }
}

/// Not a test of its own: run by the test above in a child process (with
/// [`HOLD_ENV`] set), it opens [`SUBSCRIBERS`] connections, subscribes each to
/// `stadium.1`, prints `HOLDING`, and keeps them until it is killed.
#[actix_web::test]
async fn hold_connections_for_the_parent() {
    let Ok(endpoints) = std::env::var(HOLD_ENV) else {
        return; // run as a test of its own: nothing to do
    };
    let endpoints: Vec<String> = endpoints.split(',').map(str::to_owned).collect();
    let tokens: Vec<String> = (0..USERS)
        .map(|u| common::token_for(&format!("fan-{u}"), json!({})))
        .collect();
    let subscribe = Message::text(
        json!({"event": "subscribe-channel-request", "data": {"channel": "stadium.1"}}).to_string(),
    );
    let connections = futures_util::stream::iter(0..SUBSCRIBERS)
        .map(|i| {
            let url = format!("{}?token={}", endpoints[i % 2], tokens[i % USERS]);
            let subscribe = subscribe.clone();
            async move {
                let (ws, _) = tokio_tungstenite::connect_async(url)
                    .await
                    .expect("connects");
                let mut client = Client::after_handshake(ws).await;
                client.send_raw(subscribe).await;
                let answer = client.recv_event("subscribe-channel-response").await;
                assert_eq!(answer["data"]["successful"], true, "{answer}");
                client
            }
        })
        .buffer_unordered(200)
        .collect::<Vec<_>>()
        .await;
    println!("HOLDING {}", connections.len());
    // Keep reading (pings) until the parent kills this process.
    let readers = connections
        .into_iter()
        .map(|mut client| async move { while client.ws.next().await.is_some() {} });
    futures_util::future::join_all(readers).await;
}
