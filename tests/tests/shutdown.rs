//! Graceful shutdown (`Running::shutdown()`, what SIGTERM does): what was queued is
//! written, then every connection closes with 1001, and the backplane is flushed.

mod common;

use std::time::Duration;

use common::redis::{RedisServer, node, node_with};
use common::*;
use serde_json::json;

#[actix_web::test]
async fn queued_messages_are_written_before_1001_and_shutdown_returns() {
    let server = start(settings()).await;
    let mut a = Client::connect(&server).await;
    let mut b = Client::connect(&server).await;
    let handle = server.server().clone();
    for n in 0..50 {
        handle
            .send_to_connection(&a.connection_id, "last-words", &json!({ "n": n }))
            .expect("queued");
    }
    let addr = server.addr();
    let shutdown = actix_web::rt::spawn(server.shutdown());
    for n in 0..50 {
        assert_eq!(
            a.recv().await,
            json!({"event": "last-words", "data": {"n": n}})
        );
    }
    assert_eq!(a.closed_with().await, 1001);
    assert_eq!(b.closed_with().await, 1001);
    tokio::time::timeout(Duration::from_secs(10), shutdown)
        .await
        .expect("shutdown returns once everyone has gone")
        .expect("shutdown task");
    assert_eq!(handle.stats().connections, 0);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "nothing listens after shutdown"
    );
}

#[actix_web::test]
async fn what_was_sent_just_before_shutdown_still_reaches_the_other_node() {
    // Enough that some are still queued for Redis when the shutdown begins.
    const N: u64 = 20_000;
    let redis = RedisServer::start();
    let a = node(&redis).await;
    // The listener takes the whole burst at once: a queue that holds it.
    let mut s = jwt_settings();
    s.limits.outbound_queue = 2 * N as usize;
    let b = node_with(&redis, s).await;
    let mut listener = connect_as(&b, "bea").await;
    listener.join("global-chat").await;
    let handle = a.server().clone();
    for n in 0..N {
        handle
            .broadcast("global-chat", "news", &json!({ "n": n }))
            .expect("handed to the backplane");
    }
    // At once: the publishes are still in the backplane's queue, flushed on the way out.
    a.shutdown().await;
    for n in 0..N {
        assert_eq!(
            listener.recv().await,
            json!({"event": "news", "channel": "global-chat", "data": {"n": n}})
        );
    }
}

/// A node whose one client has stopped reading with frames waiting (its writer is
/// blocked, so the 1001 cannot be written), and a handle to drain it.
async fn node_with_a_stalled_client(
    drain_secs: u64,
) -> (
    switchboard::Switchboard,
    switchboard::Running,
    tokio::net::TcpStream,
) {
    let mut s = jwt_settings();
    s.server.drain_secs = drain_secs;
    s.limits.outbound_queue = 100_000;
    s.limits.outbound_queue_bytes = 256 * 1024 * 1024;
    s.limits.write_timeout_secs = 60; // the drain, not the write timeout, is under test
    let switchboard = switchboard::Switchboard::builder(s)
        .resolve_users(switchboard_app::user::Users)
        .build()
        .expect("valid settings");
    let running = switchboard.clone().start("127.0.0.1:0").expect("binds");
    let stalled = common::raw::reader_that_stops(running.addr(), "stuck").await;
    common::raw::flood(running.server(), 8_000);
    (switchboard, running, stalled)
}

#[actix_web::test]
async fn a_handshake_during_the_drain_is_refused_with_503_shutting_down() {
    let (switchboard, running, _stalled) = node_with_a_stalled_client(2).await;
    let draining = actix_web::rt::spawn(async move { switchboard.drain().await });
    // The drain waits for the stalled client; meanwhile the node still accepts TCP.
    let token = token_for("late", json!({}));
    let mut refused = None;
    for _ in 0..100 {
        match try_connect(&running, request(&running, Some(&token))).await {
            Err(answer) => {
                refused = Some(answer);
                break;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await, // not draining yet
        }
    }
    let (status, body) = refused.expect("refused once the drain began");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "shutting_down", "{body}");
    draining.await.expect("drain task");
    running.stop().await;
}

#[actix_web::test]
async fn the_drain_ends_at_its_deadline_when_a_connection_never_closes() {
    let (switchboard, running, _stalled) = node_with_a_stalled_client(1).await;
    let started = std::time::Instant::now();
    switchboard.drain().await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(4),
        "drain took {took:?} with drain_secs = 1"
    );
    assert_eq!(
        running.server().stats().connections,
        1,
        "the deadline ended the drain, not the connection closing"
    );
    running.stop().await;
}
