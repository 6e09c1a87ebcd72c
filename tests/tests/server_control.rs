//! Server-side control, on two nodes over a real `redis-server`: subscribe a user's
//! connections to a channel, take them out, close them everywhere; and the same over
//! the HTTP API, with 400 for a bad body and 404 for nobody to apply it to.

mod common;

use common::redis::{RedisServer, node_with};
use common::{http, token_for};
use serde_json::{Value, json};
use switchboard::config::Secret;
use switchboard::testing::{TestClient, TestError};
use switchboard::{ControlError, Disconnect, Running, Sockets};

const API_KEY: &str = "an-api-key-for-the-control-tests";

async fn nodes(redis: &RedisServer) -> (Running, Running) {
    let settings = || {
        let mut s = common::jwt_settings();
        s.http_api.enabled = true;
        s.http_api.key = Secret::new(API_KEY);
        s
    };
    (
        node_with(redis, settings()).await,
        node_with(redis, settings()).await,
    )
}

async fn connect(node: &Running, user: &str) -> Result<TestClient, TestError> {
    TestClient::connect_with_token(node, &token_for(user, json!({}))).await
}

async fn api(node: &Running, path: &str, body: Value) -> (u16, Value) {
    http(
        node.addr(),
        "POST",
        &format!("/switchboard/api{path}"),
        Some(&body),
        &[("X-Api-Key", API_KEY)],
    )
    .await
}

#[actix_web::test]
async fn a_users_connections_on_both_nodes_are_subscribed_unsubscribed_and_closed()
-> Result<(), TestError> {
    let redis = RedisServer::start();
    let (a, b) = nodes(&redis).await;
    let mut cleo_a = connect(&a, "cleo").await?;
    let mut cleo_b = connect(&b, "cleo").await?;
    let mut dan_b = connect(&b, "dan").await?;

    // Subscribed from node a: cleo's connection there and the one on node b.
    a.server()
        .subscribe(Sockets::User("cleo"), "room.5")
        .await
        .map_err(|e| TestError::Unexpected {
            expected: "subscribed".into(),
            packet: json!(e.to_string()),
        })?;
    for cleo in [&mut cleo_a, &mut cleo_b] {
        cleo.expect_channel_event("room.5", "subscribed").await?;
    }
    b.server().broadcast("room.5", "hello", &json!({"n": 1}))?;
    for cleo in [&mut cleo_a, &mut cleo_b] {
        let hello = cleo.expect_channel_event("room.5", "hello").await?;
        assert_eq!(hello["data"]["n"], 1);
    }
    // The server-side subscription is a subscription: cleo may send on the channel.
    cleo_b
        .emit_with_ack("room.5", "message", json!({"message": "hi"}))
        .await?;
    let hi = cleo_a.expect_channel_event("room.5", "message").await?;
    assert_eq!(hi["data"]["message"], "hi");
    dan_b.assert_nothing_before(&b, "marker").await?;

    // Taken out again, with the reason the app gave.
    b.server()
        .unsubscribe(Sockets::User("cleo"), "room.5", "kicked")
        .await
        .map_err(|e| TestError::Unexpected {
            expected: "unsubscribed".into(),
            packet: json!(e.to_string()),
        })?;
    for cleo in [&mut cleo_a, &mut cleo_b] {
        let out = cleo.expect_channel_event("room.5", "unsubscribed").await?;
        assert_eq!(out["data"]["reason"], "kicked");
    }
    a.server().broadcast("room.5", "hello", &json!({"n": 2}))?;
    cleo_a.assert_nothing_before(&a, "marker").await?;

    // Closed everywhere, told first not to come back.
    a.server()
        .disconnect(Sockets::User("cleo"), &Disconnect::new(4403, "banned"))
        .await
        .map_err(|e| TestError::Unexpected {
            expected: "disconnected".into(),
            packet: json!(e.to_string()),
        })?;
    for cleo in [&mut cleo_a, &mut cleo_b] {
        let told = cleo.expect_event("disconnect").await?;
        assert_eq!(
            told["data"],
            json!({"code": 4403, "reason": "banned", "reconnect": false})
        );
        assert_eq!(cleo.expect_close().await?, Some(4403));
    }
    dan_b.assert_nothing_before(&b, "marker-2").await?;
    a.stop().await;
    b.stop().await;
    Ok(())
}

#[actix_web::test]
async fn nobody_to_apply_it_to_and_bad_arguments_are_errors() {
    let redis = RedisServer::start();
    let (a, b) = nodes(&redis).await;
    let cleo_b = connect(&b, "cleo").await.expect("connects");
    let server = a.server();

    let err = server.subscribe(Sockets::User("nobody"), "room.5").await;
    assert!(matches!(err, Err(ControlError::UnknownUser(_))), "{err:?}");
    let gone = format!("{}-999999", b.server().node_id().as_str());
    let err = server
        .disconnect(Sockets::Connection(&gone), &Disconnect::new(1000, "bye"))
        .await;
    assert!(
        matches!(err, Err(ControlError::UnknownConnection(_))),
        "{err:?}"
    );
    let err = server.subscribe(Sockets::User("cleo"), "nope.1").await;
    assert!(
        matches!(err, Err(ControlError::UnknownChannel { .. })),
        "{err:?}"
    );
    let err = server
        .disconnect(Sockets::User("cleo"), &Disconnect::new(1006, "no"))
        .await;
    assert!(
        matches!(err, Err(ControlError::BadCloseCode(1006))),
        "{err:?}"
    );
    // A connection on the other node is found there.
    server
        .unsubscribe(Sockets::Connection(cleo_b.connection_id()), "room.5", "x")
        .await
        .expect("the node holding it answers");
    a.stop().await;
    b.stop().await;
}

#[actix_web::test]
async fn the_http_api_controls_users_and_connections_on_any_node() -> Result<(), TestError> {
    let redis = RedisServer::start();
    let (a, b) = nodes(&redis).await;
    let mut cleo_b = connect(&b, "cleo").await?;
    let id = cleo_b.connection_id().to_owned();

    let (status, body) = api(&a, "/users/cleo/subscribe", json!({"channel": "room.9"})).await;
    assert_eq!((status, &body), (202, &json!({"applied": true})));
    cleo_b.expect_channel_event("room.9", "subscribed").await?;

    let path = format!("/connections/{id}/unsubscribe");
    let (status, _) = api(&a, &path, json!({"channel": "room.9", "reason": "moved"})).await;
    assert_eq!(status, 202);
    let out = cleo_b
        .expect_channel_event("room.9", "unsubscribed")
        .await?;
    assert_eq!(out["data"]["reason"], "moved");

    // Bad bodies name the field; nobody to apply it to is 404.
    for (path, body, field) in [
        ("/users/cleo/subscribe", json!({}), "channel"),
        (
            "/users/cleo/subscribe",
            json!({"channel": "no pe"}),
            "channel",
        ),
        (
            "/users/cleo/subscribe",
            json!({"channel": "nope.1"}),
            "channel",
        ),
        (
            "/users/cleo/subscribe",
            json!({"channel": "room.1", "x": 1}),
            "x",
        ),
        ("/users/cleo/disconnect", json!({"code": 1006}), "code"),
        ("/users/cleo/disconnect", json!({"code": "x"}), "code"),
        (
            "/users/cleo/disconnect",
            json!({"reason": "r".repeat(200)}),
            "reason",
        ),
    ] {
        let (status, answer) = api(&a, path, body.clone()).await;
        assert_eq!(status, 400, "{path} {body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{path} {body}: {answer}");
    }
    for (path, code) in [
        ("/users/nobody/subscribe", "unknown_user"),
        ("/connections/none-1/subscribe", "unknown_connection"),
    ] {
        let (status, answer) = api(&a, path, json!({"channel": "room.1"})).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (404, Some(code))
        );
    }

    let path = format!("/connections/{id}/disconnect");
    let (status, _) = api(&a, &path, json!({"code": 4000, "reconnect": true})).await;
    assert_eq!(status, 202);
    let told = cleo_b.expect_event("disconnect").await?;
    assert_eq!(told["data"]["reconnect"], true);
    assert_eq!(cleo_b.expect_close().await?, Some(4000));
    a.stop().await;
    b.stop().await;
    Ok(())
}
