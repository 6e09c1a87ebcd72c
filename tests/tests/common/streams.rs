//! Streams: publishing a numbered message, and subscribing with an optional `since`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use switchboard::Running;

use super::Client;

/// Broadcasts `message` with `{"n": n}` on `channel` from `server`.
pub fn publish(server: &Running, channel: &str, n: u64) {
    server
        .server()
        .broadcast(channel, "message", &json!({ "n": n }))
        .expect("broadcast");
}

/// Subscribes to `channel`, with `since: {offset, epoch}` when given, and returns the
/// answer's data; the answer must be the next packet (nothing of the stream before it).
pub async fn subscribe_since(
    client: &mut Client,
    channel: &str,
    since: Option<(u64, &str)>,
) -> Value {
    let mut data = json!({ "channel": channel });
    if let Some((offset, epoch)) = since {
        data["since"] = json!({ "offset": offset, "epoch": epoch });
    }
    client
        .send(json!({"event": "subscribe-channel-request", "data": data}))
        .await;
    let answer = client.recv().await;
    assert_eq!(
        answer["event"], "subscribe-channel-response",
        "first: {answer}"
    );
    answer["data"].clone()
}

/// Sends `notification` with `{"n": n}` to every connection of `user`, from `server`.
pub fn notify(server: &Running, user: &str, n: u64) {
    server
        .server()
        .send_to_user(user, "notification", &json!({ "n": n }))
        .expect("send to user");
}

/// Connects as `sub`, with `since_offset`/`since_epoch` when given; `ready` is in
/// `client.ready`.
pub async fn connect_since(server: &Running, sub: &str, since: Option<(u64, &str)>) -> Client {
    let token = super::token_for(sub, json!({ "name": sub }));
    let mut request = super::request(server, Some(&token));
    if let Some((offset, epoch)) = since {
        let url = format!(
            "{}&since_offset={offset}&since_epoch={epoch}",
            request.uri()
        );
        request = super::request_to(&url);
    }
    match super::try_connect(server, request).await {
        Ok(client) => client,
        Err((status, body)) => panic!("{sub} refused: {status} {body}"),
    }
}

/// The `n` and offset of the next `count` notifications (a `resync` fails the test).
pub async fn notifications(client: &mut Client, count: usize) -> Vec<(u64, u64)> {
    let mut seen = Vec::with_capacity(count);
    while seen.len() < count {
        let packet = client.recv().await;
        assert_ne!(packet["event"], "resync", "{packet}");
        if packet["event"] != "notification" {
            continue;
        }
        assert!(
            packet["epoch"].is_string(),
            "every send has an epoch: {packet}"
        );
        let n = packet["data"]["n"].as_u64().expect("n");
        let offset = packet["offset"].as_u64().expect("every send has an offset");
        seen.push((n, offset));
    }
    seen
}

/// `ready`'s position: its offset and epoch.
pub fn ready_position(client: &Client) -> (u64, String) {
    let data = &client.ready["data"];
    let offset = data["offset"].as_u64().expect("ready has an offset");
    let epoch = data["epoch"].as_str().expect("ready has an epoch");
    (offset, epoch.to_owned())
}

/// Most sends [`reconnects_racing_sends`] makes; the user stream must keep more.
pub const RACING_SENDS: u64 = 4000;

/// `sender` sends to `user` without pause while a dozen of the user's devices connect to
/// `connecting`, every other one with `since` at the start of the stream; then each
/// device must see every send after its position exactly once, in order, after `ready`.
/// The devices read only once the sender has stopped: their queues must hold it all.
pub async fn reconnects_racing_sends(sender: &Running, connecting: &Running, user: &str) {
    let epoch = ready_position(&connect_since(connecting, user, None).await).1;
    let sockets = sender.server().clone();
    let stop = Arc::new(AtomicBool::new(false));
    let sending = std::thread::spawn({
        let (stop, user) = (stop.clone(), user.to_owned());
        move || {
            let mut n = 0u64;
            // At most RACING_SENDS: the history must hold them all (a device recovers
            // from the start), and the devices' queues too (they read only at the end).
            while (!stop.load(Ordering::Relaxed) || n < 200) && n < RACING_SENDS {
                n += 1;
                sockets
                    .send_to_user(&user, "notification", &json!({ "n": n }))
                    .expect("send");
                if n.is_multiple_of(20) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            n
        }
    });
    let mut devices = Vec::new();
    for i in 0..12 {
        let since = (i % 2 == 1).then_some((0, epoch.as_str()));
        let device = connect_since(connecting, user, since).await;
        let from = if device.ready["data"]["recovered"] == true {
            0
        } else {
            ready_position(&device).0
        };
        devices.push((device, from));
    }
    stop.store(true, Ordering::Relaxed);
    let last = sending.join().expect("sender");
    let recovered = devices.iter().filter(|(_, from)| *from == 0).count();
    assert!(recovered >= 6, "the devices with `since` recovered");
    for (mut device, from) in devices {
        let seen = notifications(&mut device, (last - from) as usize).await;
        let offsets: Vec<u64> = seen.iter().map(|(_, offset)| *offset).collect();
        let expected: Vec<u64> = (from + 1..=last).collect();
        assert_eq!(offsets, expected, "a device positioned at {from}");
        device.assert_nothing_before(connecting, "marker").await;
    }
}
