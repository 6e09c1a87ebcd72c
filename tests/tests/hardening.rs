//! Origins, connection caps, handshake timeouts, the HTTP API, metrics.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use switchboard::config::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::http::HeaderValue;

#[actix_web::test]
async fn only_allowed_origins_may_connect() {
    let mut s = settings();
    s.auth.allowed_origins = vec!["https://chat.example".into()];
    let server = start(s).await;
    let with_origin = |origin: &str| {
        let mut r = request(&server, None);
        r.headers_mut()
            .insert("origin", HeaderValue::from_str(origin).expect("header"));
        r
    };
    match try_connect(&server, with_origin("https://evil.example")).await {
        Err((status, body)) => {
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (403, Some("forbidden_origin"))
            );
        }
        Ok(_) => panic!("a foreign origin connected"),
    }
    assert!(
        try_connect(&server, with_origin("https://chat.example"))
            .await
            .is_ok()
    );
    assert!(
        try_connect(&server, request(&server, None)).await.is_ok(),
        "non-browser clients send no Origin"
    );
    server.stop().await;
}

#[actix_web::test]
async fn connection_caps_refuse_at_the_handshake() {
    let mut s = jwt_settings();
    s.limits.max_connections = 3;
    s.limits.max_connections_per_user = 2;
    let server = start(s).await;
    let _a1 = connect_as(&server, "ann").await;
    let _a2 = connect_as(&server, "ann").await;
    let third = try_connect(
        &server,
        request(&server, Some(&token_for("ann", json!({})))),
    )
    .await;
    match third {
        Err((status, body)) => {
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (429, Some("too_many_user_connections"))
            );
        }
        Ok(_) => panic!("a third connection of one user was accepted"),
    }
    let _b = connect_as(&server, "ben").await;
    match try_connect(
        &server,
        request(&server, Some(&token_for("cat", json!({})))),
    )
    .await
    {
        Err((status, body)) => {
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (503, Some("too_many_connections"))
            );
        }
        Ok(_) => panic!("a fourth connection was accepted"),
    }
    server.stop().await;
}

#[actix_web::test]
async fn a_stalled_handshake_is_dropped_after_the_timeout() {
    let mut s = settings();
    s.limits.handshake_timeout_secs = 1;
    let server = start(s).await;
    let mut stalled = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connects");
    // Half a request head, then silence.
    stalled
        .write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("writes");
    let started = Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut rest))
        .await
        .expect("the server closes a stalled handshake")
        .expect("reads");
    let waited = started.elapsed();
    let answer = String::from_utf8_lossy(&rest);
    // Dropped by the timeout, not for some other reason: only after it, with a 408.
    assert!(
        waited >= Duration::from_millis(900),
        "dropped too early: {waited:?}"
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    server.stop().await;
}

const API_KEY: &str = "an-api-key-that-is-at-least-32-bytes-long";

fn api_settings() -> switchboard::config::Settings {
    let mut s = jwt_settings();
    s.http_api.enabled = true;
    s.http_api.key = Secret::new(API_KEY);
    s.metrics.enabled = true;
    s
}

async fn api(
    server: &switchboard::Running,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let auth = format!("Bearer {API_KEY}");
    http(
        server.addr(),
        method,
        path,
        body.as_ref(),
        &[("Authorization", &auth)],
    )
    .await
}

#[actix_web::test]
async fn the_http_api_sends_everywhere_and_validates_every_body() {
    let server = start(api_settings()).await;
    let mut ann = connect_as(&server, "ann").await;
    let mut ben = connect_as(&server, "ben").await;
    ann.join("room.7").await;
    ben.join("room.7").await;

    let (status, body) = api(
        &server,
        "POST",
        "/switchboard/api/broadcast",
        Some(json!({"channel": "room.7", "event": "news", "data": {"n": 1}})),
    )
    .await;
    assert_eq!((status, body), (202, json!({"delivered_here": 2})));
    for c in [&mut ann, &mut ben] {
        assert_eq!(
            c.recv().await,
            json!({"event": "news", "channel": "room.7", "data": {"n": 1}})
        );
    }
    let except = ann.connection_id.clone();
    let (status, _) = api(
        &server,
        "POST",
        "/switchboard/api/broadcast",
        Some(json!({"channel": "room.7", "event": "news", "except": except})),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(ben.recv().await["event"], "news");
    ann.assert_nothing_before(&server, "marker").await;

    let (status, _) = api(
        &server,
        "POST",
        "/switchboard/api/users/ben/events",
        Some(json!({"event": "hello"})),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(ben.recv().await, json!({"event": "hello", "data": {}}));
    let path = format!("/switchboard/api/connections/{}/events", ann.connection_id);
    let (status, _) = api(
        &server,
        "POST",
        &path,
        Some(json!({"event": "direct", "data": [1]})),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(ann.recv().await, json!({"event": "direct", "data": [1]}));
    let (status, body) = api(
        &server,
        "POST",
        "/switchboard/api/connections/nobody-1/events",
        Some(json!({"event": "x"})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("unknown_connection"))
    );

    let (status, body) = api(&server, "GET", "/switchboard/api/stats", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["connections"].clone(), body["users"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(body["subscribers"], json!({"room.7": 2}));

    // Bad bodies: 400 naming the field.
    for (body, field) in [
        (json!({"event": "x"}), "channel"),
        (json!({"channel": "room.7"}), "event"),
        (json!({"channel": "bad name", "event": "x"}), "channel"),
        (json!({"channel": "room.7", "event": ""}), "event"),
        (json!({"channel": "room.7", "event": "ack"}), "event"),
        (
            json!({"channel": "room.7", "event": "x", "colour": "red"}),
            "colour",
        ),
        (json!({"channel": 7, "event": "x"}), "channel"),
    ] {
        let (status, reply) = api(
            &server,
            "POST",
            "/switchboard/api/broadcast",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 400, "{body} -> {reply}");
        assert_eq!(reply["error"]["field"], field, "{body} -> {reply}");
    }
    let auth = format!("Bearer {API_KEY}");
    let (status, _) = http(
        server.addr(),
        "POST",
        "/switchboard/api/broadcast",
        None,
        &[("Authorization", &auth)],
    )
    .await;
    assert_eq!(status, 400, "an empty body is refused");

    // Wrong or missing key: 401, nothing sent.
    for headers in [
        vec![("Authorization", "Bearer wrong")],
        vec![("X-Api-Key", "nope")],
        vec![],
    ] {
        let (status, body) = http(
            server.addr(),
            "GET",
            "/switchboard/api/stats",
            None,
            &headers,
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthorised"))
        );
    }
    let (status, _) = http(
        server.addr(),
        "POST",
        "/switchboard/api/broadcast",
        Some(&json!({"channel": "room.7", "event": "x"})),
        &[("X-Api-Key", API_KEY)],
    )
    .await;
    assert_eq!(status, 202, "X-Api-Key works too");
    server.stop().await;
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

#[actix_web::test]
async fn metrics_count_what_happened() {
    let server = start(api_settings()).await;
    let mut a = connect_as(&server, "ann").await;
    let mut b = connect_as(&server, "ben").await;
    let refused = try_connect(&server, request(&server, Some("bad"))).await;
    assert!(refused.is_err());
    a.join("room.1").await;
    a.send(json!({"event": "message", "channel": "room.1", "data": {"message": "hi"}}))
        .await;
    a.send_raw(tokio_tungstenite::tungstenite::Message::text("not json"))
        .await;
    assert_eq!(a.recv().await["data"]["code"], "bad_json");
    a.send(json!({"event": "nope"})).await;
    assert_eq!(a.recv().await["data"]["code"], "unknown_event");

    let (status, text) = metrics_text(&server).await;
    assert_eq!(status, 200);
    assert_eq!(metric(&text, "switchboard_connections"), 2.0);
    assert_eq!(metric(&text, "switchboard_users"), 2.0);
    assert_eq!(metric(&text, "switchboard_subscriptions"), 1.0);
    assert_eq!(metric(&text, "switchboard_connections_opened_total"), 2.0);
    assert_eq!(
        metric(
            &text,
            "switchboard_handshakes_refused_total{status=\"401\",code=\"malformed_token\"}"
        ),
        1.0,
        "refusals are counted by status and reason"
    );
    assert_eq!(
        metric(&text, "switchboard_packets_in_total"),
        4.0,
        "subscribe, message, bad json, nope"
    );
    assert_eq!(
        metric(&text, "switchboard_errors_total{code=\"bad_json\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "switchboard_errors_total{code=\"unknown_event\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "switchboard_dispatch_seconds_count"),
        1.0,
        "one room message"
    );
    assert!(
        metric(&text, "switchboard_packets_out_total") >= 5.0,
        "2 ready, response, 2 errors"
    );

    // Closes by code: ben closes (1000, echoed); ann's TCP connection just ends.
    b.ws.close(None).await.expect("close frame sent");
    drop(a);
    let scrape = || {
        server
            .server()
            .metrics(switchboard::metrics::MetricsFormat::Prometheus)
    };
    eventually("both ends counted", || {
        let text = scrape();
        text.contains("switchboard_connections_closed_total{code=\"1000\"} 1\n")
            && text.contains("switchboard_connections_closed_total{code=\"none\"} 1\n")
    })
    .await;

    // A scraper asking for OpenMetrics gets it.
    let accept = [("Accept", "application/openmetrics-text; version=1.0.0")];
    let response = http_raw(server.addr(), "GET", "/switchboard/metrics", "", &accept).await;
    assert_eq!(response.status, 200);
    assert!(
        response
            .content_type
            .starts_with("application/openmetrics-text"),
        "{}",
        response.content_type
    );
    assert!(response.body.ends_with("# EOF\n"), "{}", response.body);
    server.stop().await;
}

async fn metrics_text(server: &switchboard::Running) -> (u16, String) {
    let response = http_raw(server.addr(), "GET", "/switchboard/metrics", "", &[]).await;
    (response.status, response.body)
}
