//! Sending to a user reaches all of their connections and nobody else's. One test in
//! its own binary: `SocketUser` sends go through the process-wide server handle.

mod common;

use common::{connect_as, jwt_settings, start};
use serde_json::json;
use switchboard::SocketUser;
use switchboard_app::listeners::UserChat;
use switchboard_app::user::User;

fn user(id: &str) -> User {
    User {
        id: id.into(),
        name: id.into(),
    }
}

#[actix_web::test]
async fn a_user_receives_on_every_device_and_others_receive_nothing() {
    let server = start(jwt_settings()).await;
    let mut phone = connect_as(&server, "alice").await;
    let mut laptop = connect_as(&server, "alice").await;
    let mut tablet = connect_as(&server, "alice").await;
    let mut bob = connect_as(&server, "bob").await;
    assert_eq!(server.server().stats().users, 2);

    let delivered = user("alice")
        .send_socket_event("notification", &json!({"message": "hi"}))
        .expect("sent");
    assert_eq!(delivered, 3);
    for device in [&mut phone, &mut laptop, &mut tablet] {
        assert_eq!(
            device.recv().await,
            json!({"event": "notification", "data": {"message": "hi"}})
        );
    }
    bob.assert_nothing_before(&server, "marker").await;

    // Through a channel listener: only alice's connections subscribed to her channel.
    phone.join("user:chat.alice").await;
    laptop.join("user:chat.alice").await;
    let r = bob.subscribe("user:chat.alice").await;
    assert_eq!(
        r["reason"], "unauthorised",
        "bob may not join alice's channel"
    );
    let delivered = user("alice")
        .send_socket_channel_event::<UserChat, _>(
            "user:chat.alice",
            "message",
            &json!({"message": "psst"}),
        )
        .expect("sent");
    assert_eq!(delivered, 2);
    assert_eq!(
        phone.recv().await,
        json!({"event": "message", "channel": "user:chat.alice", "data": {"message": "psst"}})
    );
    laptop.recv().await;
    tablet.assert_nothing_before(&server, "marker").await;
    bob.assert_nothing_before(&server, "marker").await;

    // The listener type guards the channel family.
    let wrong =
        user("alice").send_socket_channel_event::<UserChat, _>("room.1", "message", &json!({}));
    assert!(
        matches!(wrong, Err(switchboard::SendError::ChannelMismatch { .. })),
        "{wrong:?}"
    );
    server.stop().await;
}
