//! Token refresh without reconnecting, and live re-authorisation.

mod common;

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use switchboard::prelude::*;
use switchboard_app::user::User;

/// `vip.{id}`: only users whose display name (from the token) ends with "+vip".
#[derive(ChannelListener, Default, Debug)]
#[channel("vip.{id}")]
struct Vip;

#[channel_events]
impl Vip {
    async fn is_authorised(&self, user: &User) -> Result<(), SocketError> {
        if user.name.ends_with("+vip") {
            Ok(())
        } else {
            Err(SocketError::unauthorised("members only"))
        }
    }
}

/// Users the application has removed from every `project.{id}`.
static REMOVED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// `project.{id}`: everyone the application has not removed.
#[derive(ChannelListener, Default, Debug)]
#[channel("project.{id}")]
struct Project;

#[channel_events]
impl Project {
    async fn is_authorised(&self, user: &User) -> bool {
        let removed = REMOVED.lock().unwrap_or_else(PoisonError::into_inner);
        !removed.contains(&user.id)
    }
}

/// An HS256 token for `sub`, named `name`, expiring `secs` from now.
fn token(sub: &str, name: &str, secs: i64) -> String {
    token_for(sub, json!({ "name": name, "exp": now_plus(secs) }))
}

async fn connect_with(server: &switchboard::Running, token: &str) -> Client {
    match try_connect(server, request(server, Some(token))).await {
        Ok(client) => client,
        Err((status, body)) => panic!("refused: {status} {body}"),
    }
}

/// Sends `refresh-token-request` and returns the response's data.
async fn refresh(client: &mut Client, token: &str) -> Value {
    client
        .send(json!({"event": "refresh-token-request", "data": {"token": token}}))
        .await;
    client.recv_event("refresh-token-response").await["data"].clone()
}

#[actix_web::test]
async fn a_refreshed_token_keeps_the_connection_and_its_subscriptions_past_the_old_expiry() {
    let server = start(jwt_settings()).await;
    let mut ann = connect_with(&server, &token("ann", "Ann", 3)).await;
    let expires_at = ann.ready["data"]["expires_at"]
        .as_u64()
        .expect("ready carries expires_at");
    assert_eq!(expires_at as i64, now_plus(3), "{}", ann.ready);
    ann.join("room.1").await;

    // Warned halfway through a 3-second token (the refresh window is 30 s).
    let warning = ann.recv_event("token-expiring").await;
    assert_eq!(warning["data"]["expires_at"], expires_at);
    let response = refresh(&mut ann, &token("ann", "Ann", 10)).await;
    assert_eq!(response["successful"], true, "{response}");
    assert_eq!(response["expires_at"].as_u64(), Some(now_plus(10) as u64));

    // Past the old expiry: still open, still subscribed.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let delivered = server
        .server()
        .broadcast("room.1", "news", &json!({"n": 1}))
        .expect("sent");
    assert_eq!(delivered, 1);
    assert_eq!(ann.recv_event("news").await["data"], json!({"n": 1}));
    server.stop().await;
}

#[actix_web::test]
async fn without_a_refresh_the_connection_closes_with_4001() {
    let server = start(jwt_settings()).await;
    let mut ann = connect_with(&server, &token("ann", "Ann", 2)).await;
    let started = Instant::now();
    assert_eq!(ann.closed_with().await, 4001);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    server.stop().await;
}

#[actix_web::test]
async fn a_refused_refresh_changes_nothing() {
    let server = start(jwt_settings()).await;
    let mut ann = connect_with(&server, &token("ann", "Ann", 3)).await;
    let started = Instant::now();
    let badly_signed = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": "ann", "exp": now_plus(60)}),
        &EncodingKey::from_secret(b"another-secret-that-is-also-32-bytes-long"),
    )
    .expect("signs");
    // `alg: none`, hand-made: header {"alg":"none","typ":"JWT"}, claims {"sub":"x"}, no signature.
    let unsigned =
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.".to_owned();
    for (token, reason) in [
        (token("bob", "Bob", 60), "user_mismatch"),
        (token("ann", "Ann", -30), "expired_token"),
        (badly_signed, "invalid_signature"),
        (unsigned, "malformed_token"),
        ("not\na token".to_owned(), "malformed_token"),
    ] {
        let response = refresh(&mut ann, &token).await;
        assert_eq!(response["successful"], false, "{response}");
        assert_eq!(response["reason"], reason, "{response}");
    }
    ann.send(json!({"event": "refresh-token-request", "data": {}, "id": 9}))
        .await;
    let response = ann.recv_event("refresh-token-response").await;
    assert_eq!(response["data"]["reason"], "bad_payload", "{response}");
    let ack = ann.recv_event("ack").await;
    assert_eq!(
        (ack["data"]["id"].clone(), ack["data"]["ok"].clone()),
        (json!(9), json!(false))
    );

    // Still the old token: closed with 4001 at its expiry.
    assert_eq!(ann.closed_with().await, 4001);
    assert!(started.elapsed() >= Duration::from_millis(2000));
    server.stop().await;
}

#[actix_web::test]
async fn a_refresh_whose_claims_no_longer_pass_leaves_that_channel_only() {
    let server = start(jwt_settings()).await;
    let mut ann = connect_with(&server, &token("ann", "Ann+vip", 60)).await;
    ann.join("vip.lounge").await;
    ann.join("room.1").await;

    let response = refresh(&mut ann, &token("ann", "Ann", 60)).await;
    assert_eq!(response["successful"], true, "{response}");
    let evicted = ann.recv_event("unsubscribed").await;
    assert_eq!(evicted["channel"], "vip.lounge", "{evicted}");
    assert_eq!(evicted["data"]["reason"], "unauthorised", "{evicted}");
    assert_eq!(evicted["data"]["message"], "members only");

    let server_side = server.server();
    assert_eq!(
        server_side
            .broadcast("vip.lounge", "x", &json!({}))
            .expect("sent"),
        0
    );
    assert_eq!(
        server_side
            .broadcast("room.1", "y", &json!({}))
            .expect("sent"),
        1
    );
    assert_eq!(ann.recv().await["event"], "y", "room.1 stays");
    server.stop().await;
}

#[actix_web::test]
async fn reauthorise_evicts_a_users_connections_on_every_node() {
    let redis = common::redis::RedisServer::start();
    let a = common::redis::node(&redis).await;
    let b = common::redis::node(&redis).await;
    let mut cleo_a = connect_as(&a, "cleo").await;
    let mut cleo_b = connect_as(&b, "cleo").await;
    let mut dan_b = connect_as(&b, "dan").await;
    for client in [&mut cleo_a, &mut cleo_b, &mut dan_b] {
        client.join("project.7").await;
        client.join("room.1").await;
    }

    REMOVED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push("cleo".to_owned());
    let asked = Instant::now();
    assert_eq!(
        a.server().reauthorise("cleo"),
        1,
        "one connection on node A"
    );
    for cleo in [&mut cleo_a, &mut cleo_b] {
        let evicted = cleo.recv_event("unsubscribed").await;
        assert_eq!(evicted["channel"], "project.7", "{evicted}");
    }
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );

    // Dan keeps the project; Cleo keeps the room; the project reaches only Dan.
    a.server()
        .broadcast("project.7", "update", &json!({}))
        .expect("sent");
    assert_eq!(dan_b.recv_event("update").await["channel"], "project.7");
    a.server()
        .broadcast("room.1", "hello", &json!({}))
        .expect("sent");
    for cleo in [&mut cleo_a, &mut cleo_b] {
        assert_eq!(
            cleo.recv().await["event"],
            "hello",
            "no project update first"
        );
    }
    let unique: HashSet<_> = [cleo_a.connection_id.clone(), cleo_b.connection_id.clone()].into();
    assert_eq!(unique.len(), 2);
    a.stop().await;
    b.stop().await;
}

#[actix_web::test]
async fn the_http_api_reauthorises_a_user() {
    const KEY: &str = "an-api-key-that-is-at-least-32-bytes-long";
    let mut settings = jwt_settings();
    settings.http_api.enabled = true;
    settings.http_api.key = switchboard::config::Secret::new(KEY);
    let server = start(settings).await;
    let mut eve = connect_as(&server, "eve").await;
    eve.join("project.9").await;
    REMOVED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push("eve".to_owned());
    let (status, body) = http(
        server.addr(),
        "POST",
        "/switchboard/api/users/eve/reauthorise",
        None,
        &[("X-Api-Key", KEY)],
    )
    .await;
    assert_eq!((status, body), (202, json!({"connections_here": 1})));
    let evicted = eve.recv_event("unsubscribed").await;
    assert_eq!(evicted["channel"], "project.9", "{evicted}");
    let (status, _) = http(
        server.addr(),
        "POST",
        "/switchboard/api/users/eve/reauthorise",
        None,
        &[],
    )
    .await;
    assert_eq!(status, 401);
    server.stop().await;
}
