//! The framework owns only its own routes: the WebSocket endpoint, and everything else
//! under `routes_prefix`; health and readiness, optionally on an internal listener; and
//! an app's own `HttpServer` gets the standalone server's behaviour through `tune`/`serve`.

mod common;

use std::time::Duration;

use actix_web::{App, HttpServer, web};
use common::*;
use serde_json::{Value, json};
use switchboard::Switchboard;
use switchboard::config::{Secret, Settings};
use switchboard_app::demo_config::DemoConfig;

const KEY: &str = "an-api-key-that-is-at-least-32-bytes-long";

async fn get(addr: std::net::SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    http(addr, "GET", path, None, headers).await
}

#[actix_web::test]
async fn the_demo_keeps_its_own_routes_with_every_optional_framework_route_enabled() {
    let mut settings = Settings::default();
    settings.server.workers = 1;
    settings.http_api.enabled = true;
    settings.http_api.key = Secret::new(KEY);
    settings.metrics.enabled = true;
    let demo = switchboard_app::start(settings, &DemoConfig::default(), "127.0.0.1:0")
        .expect("demo starts");
    let addr = demo.addr();

    // The demo's own /api is untouched.
    let (status, body) = http(
        addr,
        "POST",
        "/api/token",
        Some(&json!({"name": "ann"})),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The framework's are under /switchboard.
    let (status, stats) = get(addr, "/switchboard/api/stats", &[("X-Api-Key", KEY)]).await;
    assert_eq!((status, &stats["connections"]), (200, &json!(0)), "{stats}");
    assert_eq!(
        get(addr, "/switchboard/healthz", &[]).await,
        (200, json!({"status": "ok"}))
    );
    assert_eq!(
        get(addr, "/switchboard/readyz", &[]).await,
        (200, json!({"status": "ready"}))
    );
    let metrics = http_raw(addr, "GET", "/switchboard/metrics", "", &[]).await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.body.contains("switchboard_connections"),
        "{}",
        metrics.body
    );
    let client = http_raw(addr, "GET", "/switchboard/switchboard.js", "", &[]).await;
    assert!(client.body.contains("export class SocketClient"));
    for path in ["/metrics", "/api/stats", "/switchboard.js", "/healthz"] {
        assert_eq!(get(addr, path, &[]).await.0, 404, "{path} is the app's");
    }
    demo.stop().await;
}

#[actix_web::test]
async fn routes_prefix_moves_every_framework_route_but_the_endpoint() {
    let mut settings = common::settings();
    settings.routes_prefix = "/rt".to_owned();
    settings.http_api.enabled = true;
    settings.http_api.key = Secret::new(KEY);
    let server = start(settings).await;
    assert_eq!(get(server.addr(), "/rt/healthz", &[]).await.0, 200);
    assert_eq!(
        get(server.addr(), "/rt/api/stats", &[("X-Api-Key", KEY)])
            .await
            .0,
        200
    );
    assert_eq!(get(server.addr(), "/switchboard/healthz", &[]).await.0, 404);
    Client::connect(&server).await; // the endpoint stays at `path`
    server.stop().await;
}

#[actix_web::test]
async fn internal_bind_takes_health_and_metrics_off_the_public_listener() {
    let mut settings = common::settings();
    settings.metrics.enabled = true;
    settings.server.internal_bind = "127.0.0.1:0".to_owned();
    let server = start(settings).await;
    let internal = server.internal_addr().expect("an internal listener");
    assert_ne!(internal, server.addr());
    for path in [
        "/switchboard/healthz",
        "/switchboard/readyz",
        "/switchboard/metrics",
    ] {
        assert_eq!(get(internal, path, &[]).await.0, 200, "{path} inside");
        assert_eq!(
            get(server.addr(), path, &[]).await.0,
            404,
            "{path} not outside"
        );
    }
    server.stop().await;
}

#[actix_web::test]
async fn readyz_says_not_ready_while_redis_is_down_and_while_draining() {
    let mut redis = common::redis::RedisServer::start();
    let mut settings = jwt_settings();
    settings.server.internal_bind = "127.0.0.1:0".to_owned();
    settings.server.drain_secs = 3;
    let node = common::redis::node_with(&redis, settings).await;
    let internal = node.internal_addr().expect("internal listener");
    let readyz = || get(internal, "/switchboard/readyz", &[]);
    assert_eq!(readyz().await.0, 200);

    redis.kill();
    let mut answer = readyz().await;
    for _ in 0..100 {
        if answer.0 == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        answer = readyz().await;
    }
    assert_eq!(
        answer,
        (
            503,
            json!({"status": "not_ready", "reasons": ["backplane_disconnected"]})
        )
    );
    redis.restart();
    let mut status = 0;
    for _ in 0..200 {
        status = readyz().await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200, "ready again once Redis is back");

    // A client that never reads its 1001 keeps the drain going for drain_secs.
    let (stuck, _) =
        tokio_tungstenite::connect_async(request(&node, Some(&token_for("z", json!({})))))
            .await
            .expect("connects");
    let shutdown = tokio::task::spawn_local(node.shutdown());
    let mut answer = readyz().await;
    for _ in 0..100 {
        if answer.0 == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        answer = readyz().await;
    }
    assert_eq!(
        answer,
        (503, json!({"status": "not_ready", "reasons": ["draining"]}))
    );
    drop(stuck);
    shutdown.await.expect("shut down");
}

#[actix_web::test]
async fn an_apps_own_http_server_gets_the_standalone_behaviour_through_tune_and_serve() {
    let switchboard = Switchboard::builder(common::settings())
        .resolve_users(switchboard_app::user::Users)
        .build()
        .expect("builds");
    let routes = switchboard.configure();
    let http = switchboard.tune(HttpServer::new(move || {
        App::new()
            .configure(routes.clone())
            .route("/hello", web::get().to(|| async { "the app's own route" }))
    }));
    let running = switchboard
        .serve(http.bind("127.0.0.1:0").expect("binds"))
        .expect("serves");
    let hello = http_raw(running.addr(), "GET", "/hello", "", &[]).await;
    assert_eq!(
        (hello.status, hello.body.as_str()),
        (200, "the app's own route")
    );
    let mut client = Client::connect(&running).await;
    client.join("room.1").await;
    // The drain reaches the app's server too: its clients get 1001.
    let shutdown = tokio::task::spawn_local(running.shutdown());
    assert_eq!(client.closed_with().await, 1001);
    shutdown.await.expect("shut down");
}

#[test]
fn a_bad_prefix_or_internal_address_names_its_key() {
    for (prefix, internal, key) in [
        ("switchboard", "", "routes_prefix"),
        ("/switchboard/", "", "routes_prefix"),
        ("/", "", "routes_prefix"),
        ("/sw itch", "", "routes_prefix"),
        ("/switchboard", "nowhere", "server.internal_bind"),
    ] {
        let mut settings = Settings::default();
        settings.routes_prefix = prefix.to_owned();
        settings.server.internal_bind = internal.to_owned();
        let error = settings.validate().expect_err("refused").to_string();
        assert!(error.contains(key), "{prefix:?} {internal:?}: {error}");
    }
}
