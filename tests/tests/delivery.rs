//! The delivery core: clients that stop reading are freed, and fan-out keeps every
//! publisher's order across workers.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use actix_web::{App, HttpServer};
use common::raw::{flood, masked_text, reader_that_stops};
use common::{Client, connect_as, eventually, jwt_settings, settings, start};
use serde_json::json;
use switchboard::Switchboard;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The server's side of the TCP connection is gone (the kernel dropped it after the
/// write timeout, which tells the peer nothing): the next bytes the client sends are
/// answered with a reset. Checked without reading, which would let a stalled writer go on.
async fn assert_reset(tcp: &mut TcpStream) {
    let deadline = tokio::time::Instant::now() + common::PATIENCE * 2;
    let ping = masked_text(br#"{"event":"pong","data":{}}"#);
    loop {
        let sent = tcp.write_all(&ping).await;
        match (sent, tcp.take_error()) {
            (Err(e), _) | (Ok(()), Ok(Some(e))) => {
                let gone = [
                    std::io::ErrorKind::ConnectionReset,
                    std::io::ErrorKind::BrokenPipe,
                ];
                assert!(gone.contains(&e.kind()), "{e}");
                return;
            }
            (Ok(()), _) => {}
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never dropped the TCP connection"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Queues deep enough that a client which stops reading is never closed for it (4008):
/// only the write timeout can free it.
fn stalled_settings() -> switchboard::config::Settings {
    let mut s = jwt_settings();
    s.limits.outbound_queue = 100_000;
    s.limits.outbound_queue_bytes = 256 * 1024 * 1024;
    s.limits.write_timeout_secs = 2;
    s.limits.max_connections_per_user = 1;
    s
}

#[actix_web::test]
async fn a_subscriber_that_never_reads_is_aborted_and_everything_it_held_is_freed() {
    let server = start(stalled_settings()).await;
    let mut zombie = reader_that_stops(server.addr(), "zed").await;
    let stats = server.server().stats();
    assert_eq!((stats.connections, stats.subscriptions), (1, 1));

    flood(server.server(), 8_000); // more than the socket buffers take: the writer is blocked
    // Freed within the write timeout and a sweep or two, while the client never reads.
    let started = std::time::Instant::now();
    eventually("the stalled connection is freed", || {
        let stats = server.server().stats();
        stats.connections == 0 && stats.subscriptions == 0 && stats.users == 0
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(2 + 4),
        "freed after {:?}",
        started.elapsed()
    );
    // Its slot under the per-user cap of 1 is free again.
    let mut again = connect_as(&server, "zed").await;
    again.join("global-chat").await;
    assert_reset(&mut zombie).await;
    server.stop().await;
}

#[actix_web::test]
async fn a_heartbeat_close_while_the_writer_is_blocked_still_frees_the_session() {
    let mut s = stalled_settings();
    s.limits.write_timeout_secs = 3;
    s.heartbeat.interval_secs = 1;
    s.heartbeat.timeout_secs = 2;
    let server = start(s).await;
    let mut silent = reader_that_stops(server.addr(), "hal").await;
    flood(server.server(), 8_000); // more than the socket buffers take: the writer is blocked

    eventually("the silent connection is freed", || {
        server.server().stats().connections == 0
    })
    .await;
    assert_reset(&mut silent).await;
    server.stop().await;
}

#[actix_web::test]
async fn a_slow_consumer_closed_with_4008_is_freed_while_it_still_never_reads() {
    let mut s = stalled_settings();
    s.limits.outbound_queue = 8;
    s.limits.write_timeout_secs = 30;
    let server = start(s).await;
    let _zombie = reader_that_stops(server.addr(), "sloth").await;
    flood(server.server(), 5_000);
    // The queue overflowed (4008) and its frames were dropped at once; the close frame
    // goes out behind what the socket already holds, or the write timeout frees it.
    let handle = server.server().clone();
    let error = handle.broadcast("global-chat", "message", &json!({}));
    assert!(error.is_ok());
    let freed = tokio::time::timeout(Duration::from_secs(35), async {
        while handle.stats().connections > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(freed.is_ok(), "a 4008 close that is never read is freed");
    server.stop().await;
}

#[actix_web::test]
async fn without_the_socket_hook_the_sweep_still_frees_a_reader_that_stopped() {
    // An app that builds its own HttpServer and forgets `on_connect`: the kernel does
    // not reset the connection, so only the worker's sweep can free the session.
    let switchboard = Switchboard::builder(stalled_settings())
        .resolve_users(switchboard_app::user::Users)
        .build()
        .expect("valid settings");
    let server = switchboard.server();
    let http = HttpServer::new(move || App::new().configure(switchboard.configure()))
        .workers(1)
        .shutdown_timeout(1)
        .bind("127.0.0.1:0")
        .expect("binds");
    let addr = http.addrs()[0];
    let http = http.run();
    let handle = http.handle();
    actix_web::rt::spawn(http);

    let _zombie = reader_that_stops(addr, "una").await;
    flood(&server, 8_000);
    let started = std::time::Instant::now();
    eventually("the stalled connection is freed", || {
        server.stats().connections == 0
    })
    .await;
    assert!(started.elapsed() < Duration::from_secs(2 + 4));
    let metrics = server.metrics(switchboard::metrics::MetricsFormat::Prometheus);
    assert!(
        metrics.contains("switchboard_write_timeouts_total 1\n"),
        "freed by the write timeout's sweep:\n{metrics}"
    );
    handle.stop(false).await;
}

/// What one subscriber received, per publisher: the sequence numbers in arrival order.
type Received = HashMap<String, Vec<u64>>;

async fn collect(mut client: Client, expected: usize) -> Received {
    let mut received = Received::new();
    for _ in 0..expected {
        let packet = client.recv_event("message").await;
        let text = packet["data"]["message"].as_str().unwrap_or_default();
        let (publisher, seq) = text.split_once('-').expect("PUBLISHER-SEQ");
        received
            .entry(publisher.to_owned())
            .or_default()
            .push(seq.parse().expect("a sequence number"));
    }
    received
}

#[actix_web::test]
async fn four_publishers_on_two_workers_are_seen_in_order_by_every_subscriber() {
    const PER_PUBLISHER: u64 = 300;
    const SUBSCRIBERS: usize = 8;
    let mut s = settings();
    s.server.workers = 2;
    s.limits.outbound_queue = 100_000;
    let server = start(s).await;

    let mut subscribers = Vec::new();
    for _ in 0..SUBSCRIBERS {
        let mut client = Client::connect(&server).await;
        client.join("global-chat").await;
        subscribers.push(client);
    }
    // Two publishers are connections (their events run in the channel's actor), two
    // are plain threads calling the server handle.
    let mut publishers = Vec::new();
    for _ in 0..2 {
        let mut publisher = Client::connect(&server).await;
        publisher.join("global-chat").await; // only subscribers may send on a channel
        publishers.push(publisher);
    }
    let expected = 4 * PER_PUBLISHER as usize;
    let readers: Vec<_> = subscribers
        .into_iter()
        .map(|client| actix_web::rt::spawn(collect(client, expected)))
        .collect();

    let threads: Vec<_> = (0..2)
        .map(|t| {
            let handle = server.server().clone();
            std::thread::spawn(move || {
                for seq in 0..PER_PUBLISHER {
                    let message = format!("thread{t}-{seq}");
                    handle
                        .broadcast("global-chat", "message", &json!({"message": message}))
                        .expect("broadcast");
                }
            })
        })
        .collect();
    for seq in 0..PER_PUBLISHER {
        for (p, publisher) in publishers.iter_mut().enumerate() {
            publisher
                .send(json!({
                    "event": "message",
                    "channel": "global-chat",
                    "data": {"message": format!("conn{p}-{seq}")},
                }))
                .await;
        }
    }
    for thread in threads {
        thread.join().expect("publisher thread");
    }
    for reader in readers {
        let received = reader.await.expect("subscriber task");
        assert_eq!(
            received.len(),
            4,
            "every publisher reached it: {received:?}"
        );
        for (publisher, seqs) in received {
            let in_order: Vec<u64> = (0..PER_PUBLISHER).collect();
            assert_eq!(
                seqs, in_order,
                "{publisher}'s messages, each once and in order"
            );
        }
    }
    server.stop().await;
}
