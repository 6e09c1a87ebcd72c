//! Streams: publishing a numbered message, and subscribing with an optional `since`.

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
