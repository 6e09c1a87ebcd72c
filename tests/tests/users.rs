//! Sending to a user reaches all of their connections and nobody else's. One test in
//! its own binary: `SocketUser` sends go through the process-wide server handle.
//! Written with the harness applications use, `switchboard::testing`.

use serde_json::json;
use switchboard::testing::{self, TestClient, TestError};
use switchboard::{Running, SocketUser, Switchboard};
use switchboard_app::listeners::UserChat;
use switchboard_app::user::User;

const SECRET: &str = "users-test-secret-that-is-at-least-32-bytes";

fn user(id: &str) -> User {
    User {
        id: id.into(),
        name: id.into(),
    }
}

/// Connects as `id`, with the `name` claim the demo's user resolver reads.
async fn connect_as(server: &Running, id: &str) -> Result<TestClient, TestError> {
    let token = testing::dev_token_with_claims(SECRET, id, json!({ "name": id }))?;
    TestClient::connect_with_token(server, &token).await
}

#[actix_web::test]
async fn a_user_receives_on_every_device_and_others_receive_nothing() -> Result<(), TestError> {
    let server = testing::start(
        Switchboard::builder(testing::jwt_settings(SECRET))
            .resolve_users(switchboard_app::user::Users),
    )?;
    let mut phone = connect_as(&server, "alice").await?;
    let mut laptop = connect_as(&server, "alice").await?;
    let mut tablet = connect_as(&server, "alice").await?;
    let mut bob = connect_as(&server, "bob").await?;
    assert_eq!(phone.user_id(), Some("alice"));
    assert_eq!(server.server().stats().users, 2);

    let delivered = user("alice").send_socket_event("notification", &json!({"message": "hi"}))?;
    assert_eq!(delivered, 3);
    for device in [&mut phone, &mut laptop, &mut tablet] {
        assert_eq!(
            device.next_packet().await?,
            json!({"event": "notification", "data": {"message": "hi"}})
        );
    }
    bob.assert_nothing_before(&server, "marker").await?;

    // Through a channel listener: only alice's connections subscribed to her channel.
    phone.subscribe("user:chat.alice").await?;
    laptop.subscribe("user:chat.alice").await?;
    match bob.subscribe("user:chat.alice").await {
        Err(TestError::Refused { reason, .. }) => {
            assert_eq!(
                reason.as_deref(),
                Some("unauthorised"),
                "bob may not join alice's channel"
            );
        }
        other => panic!("bob may not join alice's channel: {other:?}"),
    }
    let delivered = user("alice").send_socket_channel_event::<UserChat, _>(
        "user:chat.alice",
        "message",
        &json!({"message": "psst"}),
    )?;
    assert_eq!(delivered, 2);
    assert_eq!(
        phone.next_packet().await?,
        json!({"event": "message", "channel": "user:chat.alice", "data": {"message": "psst"}})
    );
    laptop
        .expect_channel_event("user:chat.alice", "message")
        .await?;
    tablet.assert_nothing_before(&server, "marker").await?;
    bob.assert_nothing_before(&server, "marker").await?;

    // The listener type guards the channel family.
    let wrong =
        user("alice").send_socket_channel_event::<UserChat, _>("room.1", "message", &json!({}));
    assert!(
        matches!(wrong, Err(switchboard::SendError::ChannelMismatch { .. })),
        "{wrong:?}"
    );
    server.stop().await;
    Ok(())
}
