//! User streams on one node (memory backplane): sends to a user carry a position and are
//! kept, so a device that was offline catches up when it reconnects with `since`.

mod common;

use common::streams::{
    connect_since, notifications, notify, ready_position, reconnects_racing_sends,
};
use common::{jwt_settings, request_to, start, token_for, try_connect};
use serde_json::json;
use switchboard::config::Settings;

/// JWT settings with user streams that keep `size` sends per user.
fn keeping(size: usize) -> Settings {
    let mut s = jwt_settings();
    s.history.users.size = size;
    s
}

#[actix_web::test]
async fn a_user_offline_for_20_sends_catches_up_on_reconnect_then_gets_live_ones() {
    let server = start(keeping(100)).await;
    let mut phone = connect_since(&server, "alice", None).await;
    let mut laptop = connect_since(&server, "alice", None).await;
    let (start_offset, epoch) = ready_position(&phone);
    assert_eq!(start_offset, 0, "{}", phone.ready);
    assert_eq!(
        ready_position(&laptop),
        (0, epoch.clone()),
        "one stream per user"
    );
    notify(&server, "alice", 1);
    assert_eq!(notifications(&mut phone, 1).await, [(1, 1)]);
    drop(phone); // the phone goes offline; the laptop stays

    for n in 2..=21 {
        notify(&server, "alice", n);
    }
    let mut phone = connect_since(&server, "alice", Some((1, &epoch))).await;
    let ready = &phone.ready["data"];
    assert_eq!(ready["recovered"], true, "{ready}");
    assert_eq!(ready["missed"], 20, "{ready}");
    assert_eq!(ready["offset"], 21, "{ready}");
    assert_eq!(ready["epoch"], epoch.as_str(), "{ready}");
    let missed = notifications(&mut phone, 20).await;
    let expected: Vec<(u64, u64)> = (2..=21).map(|n| (n, n)).collect();
    assert_eq!(missed, expected, "exactly what it missed, in order");

    notify(&server, "alice", 22);
    assert_eq!(notifications(&mut phone, 1).await, [(22, 22)], "then live");
    let all: Vec<(u64, u64)> = (1..=22).map(|n| (n, n)).collect();
    assert_eq!(
        notifications(&mut laptop, 22).await,
        all,
        "the laptop saw each once"
    );
    phone.assert_nothing_before(&server, "marker").await;
    server.stop().await;
}

/// Sends made while devices reconnect arrive once each, after what they missed.
#[actix_web::test]
async fn sends_racing_a_reconnect_are_neither_lost_nor_repeated() {
    let mut s = keeping(5000);
    s.server.workers = 2;
    s.limits.outbound_queue = 16_384; // the devices read once everything is sent
    s.limits.outbound_queue_bytes = 32 << 20;
    let server = start(s).await;
    reconnects_racing_sends(&server, &server, "bob").await;
    server.stop().await;
}

#[actix_web::test]
async fn another_epoch_a_trimmed_past_and_a_future_offset_are_not_recovered() {
    let server = start(keeping(5)).await;
    let epoch = ready_position(&connect_since(&server, "carol", None).await).1;
    for n in 1..=10 {
        notify(&server, "carol", n);
    }
    for since in [(2, epoch.as_str()), (3, "another"), (11, epoch.as_str())] {
        let device = connect_since(&server, "carol", Some(since)).await;
        let ready = &device.ready["data"];
        assert_eq!(ready["recovered"], false, "since {since:?}: {ready}");
        assert!(ready.get("missed").is_none(), "{ready}");
        assert_eq!(ready["offset"], 10, "{ready}");
        assert_eq!(ready["epoch"], epoch.as_str(), "{ready}");
    }
    let mut device = connect_since(&server, "carol", Some((5, &epoch))).await;
    assert_eq!(
        device.ready["data"]["recovered"], true,
        "the last 5 are kept"
    );
    assert_eq!(device.ready["data"]["missed"], 5);
    let missed = notifications(&mut device, 5).await;
    assert_eq!(missed, [(6, 6), (7, 7), (8, 8), (9, 9), (10, 10)]);
    notify(&server, "carol", 11);
    assert_eq!(notifications(&mut device, 1).await, [(11, 11)], "then live");
    server.stop().await;
}

#[actix_web::test]
async fn a_malformed_since_is_refused_with_400_naming_the_parameter() {
    let server = start(keeping(10)).await;
    let token = token_for("dave", json!({}));
    let base = format!("{}?token={token}", server.ws_url());
    for (query, named) in [
        (
            "&since_offset=-1&since_epoch=e",
            "`since_offset` must be an unsigned integer",
        ),
        (
            "&since_offset=x&since_epoch=e",
            "`since_offset` must be an unsigned integer",
        ),
        (
            "&since_offset=4",
            "`since_offset` needs `since_epoch` beside it",
        ),
        (
            "&since_epoch=e",
            "`since_epoch` needs `since_offset` beside it",
        ),
    ] {
        let refused = try_connect(&server, request_to(&format!("{base}{query}"))).await;
        let Err((status, body)) = refused else {
            panic!("{query} was accepted");
        };
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "bad_since", "{body}");
        assert_eq!(body["error"]["message"], named, "{body}");
    }
    server.stop().await;
}

/// Off by default: `ready` and sends to users are as in v1 (what Envuso's client sees).
#[actix_web::test]
async fn without_user_streams_ready_and_sends_carry_no_position() {
    let server = start(jwt_settings()).await;
    let mut erin = connect_since(&server, "erin", Some((3, "ignored"))).await;
    let ready = &erin.ready["data"];
    for field in ["offset", "epoch", "recovered", "missed"] {
        assert!(ready.get(field).is_none(), "{field} in {ready}");
    }
    notify(&server, "erin", 1);
    let packet = erin.recv_event("notification").await;
    assert!(packet.get("offset").is_none(), "{packet}");
    assert_eq!(packet, json!({"event": "notification", "data": {"n": 1}}));
    server.stop().await;
}

/// Sends to one connection, to everyone, or to a user on one channel are not kept.
#[actix_web::test]
async fn only_sends_to_a_user_are_positioned() {
    let server = start(keeping(10)).await;
    let mut frank = connect_since(&server, "frank", None).await;
    let sockets = server.server();
    sockets
        .send_to_connection(&frank.connection_id, "direct", &json!({}))
        .expect("to the connection");
    sockets
        .send_to_everyone("news", &json!({}))
        .expect("to everyone");
    notify(&server, "frank", 1);
    for event in ["direct", "news"] {
        let packet = frank.recv_event(event).await;
        assert!(packet.get("offset").is_none(), "{packet}");
    }
    assert_eq!(notifications(&mut frank, 1).await, [(1, 1)]);
    server.stop().await;
}
