//! The demo application's own routes: dev tokens, notifications and who may call them.

mod common;

use common::{Client, dev_token, http, request, try_connect};
use serde_json::{Value, json};
use switchboard::Running;
use switchboard::config::{Secret, Settings};
use switchboard_app::DemoError;
use switchboard_app::demo_config::DemoConfig;

fn demo_settings() -> Settings {
    let mut s = Settings::default(); // the demo's defaults: jwt required, no anonymous
    s.server.workers = 1;
    s
}

fn start_demo(settings: Settings) -> Running {
    switchboard_app::start(settings, &DemoConfig::default(), "127.0.0.1:0")
        .expect("demo starts with a throwaway secret")
}

/// `POST path` with `Authorization: Bearer credential` when one is given.
async fn post_as(
    server: &Running,
    path: &str,
    body: &Value,
    credential: Option<&str>,
) -> (u16, Value) {
    let header = credential.map(|c| format!("Bearer {c}"));
    let headers: Vec<(&str, &str)> = header
        .as_deref()
        .map(|h| vec![("authorization", h)])
        .unwrap_or_default();
    http(server.addr(), "POST", path, Some(body), &headers).await
}

#[actix_web::test]
async fn a_dev_token_connects_and_a_notification_reaches_every_device() {
    let server = start_demo(demo_settings());
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

    let ding = json!({"message": "ding"});
    let (status, body) = post_as(&server, "/api/notify/alice", &ding, Some(&token)).await;
    assert_eq!((status, body), (200, json!({"delivered": 2})));
    for device in [&mut one, &mut two] {
        let notification = device.recv().await;
        assert_eq!(notification["event"], "notification", "{notification}");
        assert_eq!(notification["data"], json!({"message": "ding"}));
        // The demo keeps a user's notifications (Demo.toml's user_history).
        assert_eq!(notification["offset"], 1, "{notification}");
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
    settings.jwt.secret = Secret::new(common::SECRET);
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
    // Tokens from the real issuer still work on the HTTP routes.
    let alice = common::token_for("alice", json!({}));
    let (status, _) = post_as(
        &server,
        "/api/notify/alice",
        &json!({"message": "m"}),
        Some(&alice),
    )
    .await;
    assert_eq!(status, 200);
    server.stop().await;
}

#[actix_web::test]
async fn dev_tokens_are_refused_when_a_real_secret_is_configured() {
    let mut settings = demo_settings();
    settings.jwt.secret = Secret::new(common::SECRET);
    let error = switchboard_app::start(settings, &DemoConfig::default(), "127.0.0.1:0")
        .expect_err("dev tokens would sign with the real secret");
    assert!(
        matches!(error, DemoError::DevTokensWithRealSecret),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.contains("jwt.secret") && text.contains("dev_tokens = false"),
        "{text}"
    );

    // A pinned development secret is the demo's own: tokens signed with it connect.
    let demo = DemoConfig {
        dev_secret: common::SECRET.to_owned(),
        ..DemoConfig::default()
    };
    let server = switchboard_app::start(demo_settings(), &demo, "127.0.0.1:0").expect("starts");
    let token = common::token_for("ann", json!({}));
    try_connect(&server, request(&server, Some(&token)))
        .await
        .expect("signed with the pinned dev secret");
    server.stop().await;
}

#[actix_web::test]
async fn notify_takes_the_api_key_or_the_users_own_token() {
    let mut settings = demo_settings();
    settings.http_api.enabled = true;
    settings.http_api.key = Secret::new("backend-key-0123456789abcdef0123456789");
    let server = start_demo(settings);
    let alice = dev_token(&server, "alice").await;
    let bob = dev_token(&server, "bob").await;
    let body = json!({"message": "ding"});

    let (status, refused) = post_as(&server, "/api/notify/alice", &body, None).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (401, Some("unauthorised")),
        "{refused}"
    );
    let (status, _) = post_as(&server, "/api/notify/alice", &body, Some("not-a-token")).await;
    assert_eq!(status, 401);
    let (status, refused) = post_as(&server, "/api/notify/alice", &body, Some(&bob)).await;
    assert_eq!(status, 403, "bob may not notify alice: {refused}");

    let (status, sent) = post_as(&server, "/api/notify/alice", &body, Some(&alice)).await;
    assert_eq!((status, sent), (200, json!({"delivered": 0})));
    let (status, sent) = post_as(
        &server,
        "/api/notify/alice",
        &body,
        Some("backend-key-0123456789abcdef0123456789"),
    )
    .await;
    assert_eq!((status, sent), (200, json!({"delivered": 0})));
    server.stop().await;
}

#[actix_web::test]
async fn a_room_post_needs_a_sign_in_and_is_written_by_the_signed_in_user() {
    let server = start_demo(demo_settings());
    let post = json!({"message": "hello", "from": "Mallory"});
    let (status, _) = post_as(&server, "/rooms/r1/messages", &post, None).await;
    assert_eq!(status, 401);

    let alice = dev_token(&server, "Alice").await;
    let (status, body) = post_as(&server, "/rooms/r1/messages", &post, Some(&alice)).await;
    assert_eq!((status, &body["seq"]), (201, &json!(1)), "{body}");
    let fragment = common::http_raw(server.addr(), "GET", "/rooms/r1/messages", "", &[])
        .await
        .body;
    assert!(fragment.contains(">Alice<"), "{fragment}");
    assert!(
        !fragment.contains("Mallory"),
        "`from` is not trusted: {fragment}"
    );
    server.stop().await;
}
