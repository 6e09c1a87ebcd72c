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
