//! The demo application's own routes: dev tokens and notifications.

mod common;

use common::{Client, http, request, try_connect};
use serde_json::json;
use switchboard::config::Settings;
use switchboard_app::demo_config::DemoConfig;

fn demo_settings() -> Settings {
    let mut s = Settings::default(); // the demo's defaults: jwt required, no anonymous
    s.server.workers = 1;
    s
}

#[actix_web::test]
async fn a_dev_token_connects_and_a_notification_reaches_every_device() {
    let server = switchboard_app::start(demo_settings(), &DemoConfig::default(), "127.0.0.1:0")
        .expect("demo starts with a throwaway secret");
    let (status, body) = http(
        server.addr(),
        "POST",
        "/api/token",
        Some(&json!({"name": "Alice"})),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"], json!({"id": "alice", "name": "Alice"}));
    let token = body["token"].as_str().expect("token").to_owned();

    let mut one: Client = try_connect(&server, request(&server, Some(&token)))
        .await
        .expect("token accepted");
    let mut two: Client = try_connect(&server, request(&server, Some(&token)))
        .await
        .expect("token accepted");

    let (status, body) = http(
        server.addr(),
        "POST",
        "/api/notify/alice",
        Some(&json!({"message": "ding"})),
        &[],
    )
    .await;
    assert_eq!((status, body), (200, json!({"delivered": 2})));
    for device in [&mut one, &mut two] {
        assert_eq!(
            device.recv().await,
            json!({"event": "notification", "data": {"message": "ding"}})
        );
    }

    // Private channel: the user's own, with the name from the token.
    one.join("user:chat.alice").await;
    one.send(
        json!({"event": "message", "channel": "user:chat.alice", "data": {"message": "note"}}),
    )
    .await;
    assert_eq!(
        one.recv().await["data"],
        json!({"message": "note", "from": "Alice"})
    );

    let (status, body) = http(
        server.addr(),
        "POST",
        "/api/token",
        Some(&json!({"name": "no spaces please"})),
        &[],
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_name"))
    );
    server.stop().await;
}

#[actix_web::test]
async fn dev_tokens_can_be_switched_off() {
    let demo = DemoConfig {
        dev_tokens: false,
        ..DemoConfig::default()
    };
    let mut settings = demo_settings();
    settings.jwt.secret = switchboard::config::Secret::new(common::SECRET);
    let server = switchboard_app::start(settings, &demo, "127.0.0.1:0").expect("starts");
    let (status, _) = http(
        server.addr(),
        "POST",
        "/api/token",
        Some(&json!({"name": "a"})),
        &[],
    )
    .await;
    assert_eq!(status, 404);
    server.stop().await;
}
