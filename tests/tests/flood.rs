//! The inbound rate limit: excess packets are refused one by one, a flood closes the
//! connection, and other connections are served meanwhile.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

fn echo() -> Message {
    Message::text(json!({"event": "echo", "data": {}}).to_string())
}

#[actix_web::test]
async fn exactly_flood_close_after_packets_are_refused_then_the_connection_closes_with_4029() {
    const BURST: usize = 10;
    const FLOOD: usize = 30;
    let mut s = settings();
    // The slowest refill allowed: a token a second. The burst is what gets through;
    // a refill on a very slow run adds an accept, never a refusal.
    s.limits.messages_per_second = 1;
    s.limits.burst = BURST as u32;
    s.limits.flood_close_after = FLOOD as u32;
    let server = start(s).await;
    let mut flooder = Client::connect(&server).await;
    let started = Instant::now();

    // Every echo is answered, by `pong-back` or `rate_limited`, except the one that
    // closes the connection. Send what must close it if the bucket does not refill,
    // and one more whenever a refill let one through: never a packet past the close.
    let (mut sent, mut accepted, mut refused) = (0, 0, 0);
    let code = loop {
        while sent - accepted < FLOOD + 1 {
            flooder.send_raw(echo()).await;
            sent += 1;
        }
        match flooder.frame().await {
            Message::Text(text) => {
                let packet: Value = serde_json::from_str(&text).expect("json");
                match packet["event"].as_str() {
                    Some("pong-back") => accepted += 1,
                    Some("error") if packet["data"]["code"] == "rate_limited" => {
                        refused += 1;
                        assert!(
                            refused <= FLOOD,
                            "{refused} refusals and still open: flood_close_after is {FLOOD}"
                        );
                    }
                    Some("ping") => {}
                    _ => panic!("unexpected packet: {packet}"),
                }
            }
            Message::Close(Some(CloseFrame { code, .. })) => break u16::from(code),
            other => panic!("unexpected frame: {other:?}"),
        }
    };
    assert_eq!(code, 4029);
    assert_eq!(refused, FLOOD, "refusals before the close");
    let refills = started.elapsed().as_secs() as usize + 1;
    assert!(
        (BURST..=BURST + refills).contains(&accepted),
        "{accepted} accepted: the burst of {BURST} plus at most {refills} refills"
    );
    assert_eq!(
        accepted + refused + 1,
        sent,
        "every packet answered but the last"
    );
    eventually("the flooder's session is removed", || {
        server.server().stats().connections == 0
    })
    .await;
    server.stop().await;
}

#[actix_web::test]
async fn a_calm_client_is_served_while_another_floods() {
    let mut s = settings();
    s.limits.messages_per_second = 20;
    s.limits.burst = 20;
    s.limits.flood_close_after = u32::MAX; // this flood must last the whole test
    let server = start(s).await;
    let flooder = Client::connect(&server).await;
    let mut calm = Client::connect(&server).await;

    // The flooder sends as fast as it can and counts the refusals it reads.
    let (mut sink, mut stream) = flooder.ws.split();
    let stop = Arc::new(AtomicBool::new(false));
    let refusals = Arc::new(AtomicUsize::new(0));
    let sender = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut sent = 0u64;
            while !stop.load(Ordering::Relaxed) {
                sink.send(echo()).await.expect("flooder sends");
                sent += 1;
                if sent.is_multiple_of(64) {
                    tokio::task::yield_now().await;
                }
            }
            sink
        }
    });
    let reader = tokio::spawn({
        let refusals = refusals.clone();
        async move {
            while let Some(Ok(message)) = stream.next().await {
                if message.to_text().is_ok_and(|t| t.contains("rate_limited")) {
                    refusals.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    eventually("the flood is refused", || {
        refusals.load(Ordering::Relaxed) >= 10
    })
    .await;

    // Measured during the flood: it is still being refused after the last round trip.
    let mut slowest = Duration::ZERO;
    for n in 0..20 {
        let started = Instant::now();
        calm.send(json!({"event": "echo", "data": {"n": n}})).await;
        let answer = calm.recv().await;
        assert_eq!(answer, json!({"event": "pong-back", "data": {"n": n}}));
        slowest = slowest.max(started.elapsed());
    }
    let before = refusals.load(Ordering::Relaxed);
    eventually("the flood is still going on", || {
        refusals.load(Ordering::Relaxed) > before
    })
    .await;
    println!("slowest echo round trip during the flood: {slowest:?}");
    // A round trip takes a millisecond or two here; a second means the calm client
    // waited behind the flood. Generous, for a loaded 2-core machine.
    assert!(
        slowest < Duration::from_secs(1),
        "the calm client waited behind the flood: {slowest:?}"
    );
    stop.store(true, Ordering::Relaxed);
    drop(sender.await.expect("sender task"));
    reader.abort();
    server.stop().await;
}

#[actix_web::test]
async fn a_flood_of_websocket_pings_counts_like_packets_and_closes_with_4029() {
    let mut s = settings();
    s.limits.messages_per_second = 1;
    s.limits.burst = 5;
    s.limits.flood_close_after = 10;
    let server = start(s).await;
    let mut flooder = Client::connect(&server).await;
    // 5 answered from the burst, 10 refused, the 11th refusal closes: 16 pings (a few
    // more in case the bucket refills meanwhile; what follows the close is ignored).
    for _ in 0..20 {
        flooder
            .send_raw(Message::Ping(b"ping".to_vec().into()))
            .await;
    }
    assert_eq!(flooder.closed_with().await, 4029);
    server.stop().await;
}
